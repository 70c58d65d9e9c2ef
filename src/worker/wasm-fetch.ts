/**
 * Fetches and instantiates SQLite's wasm for wa-sqlite's Emscripten factory (its
 * `instantiateWasm` hook), so that a wasm that cannot load fails with a message naming the URL and
 * the reason (e.g. `HTTP 404`), not with Emscripten's "expected magic word" about an error page.
 */
import { StorageUnavailableError } from '../protocol/errors.js'

const HINT = 'set the wasmUrl option to where the file is served, or serve it from the package next to the worker script'

/** The compiled and instantiated wasm at `url`, or a StorageUnavailableError saying why not. */
export async function instantiateWasm(url: string, imports: WebAssembly.Imports): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  let response: Response
  try {
    response = await fetch(url, { credentials: 'same-origin' })
  } catch (error) {
    throw new StorageUnavailableError(`SQLite's wasm could not be fetched from ${url}: ${(error as Error)?.message ?? error}`)
  }
  if (!response.ok) {
    throw new StorageUnavailableError(`SQLite's wasm could not be fetched from ${url}: HTTP ${response.status}; ${HINT}`)
  }
  try {
    // Streaming compiles while the bytes arrive (and lets the browser cache the compiled code); it
    // needs the application/wasm type, which some servers do not send.
    if (typeof WebAssembly.instantiateStreaming === 'function' && response.headers.get('content-type')?.startsWith('application/wasm')) {
      return await WebAssembly.instantiateStreaming(response, imports)
    }
    return await WebAssembly.instantiate(await response.arrayBuffer(), imports)
  } catch (error) {
    throw new StorageUnavailableError(`SQLite's wasm from ${url} did not compile (${(error as Error)?.message ?? error}); ${HINT}`)
  }
}
