/**
 * Fetches, compiles and instantiates SQLite's wasm for wa-sqlite's Emscripten factory (its
 * `instantiateWasm` hook), so that a wasm that cannot load fails with a message naming the URL and
 * the reason (e.g. `HTTP 404`), not with Emscripten's "expected magic word" about an error page.
 *
 * Fetching and compiling need no imports, so they start before the factory is called: the
 * factory's own start-up took 24-27 ms before it asked for the wasm (measured in a failover,
 * Chromium 156 on 2 cores), time the download and compilation now overlap.
 */
import { StorageUnavailableError } from '../protocol/errors.js'

/** A server that takes the request and never answers must not keep the role vacant for good. */
const FETCH_TIMEOUT_MS = 60_000

const URL_HINT =
  'set the wasmUrl option to where wa-sqlite.wasm is served (the opfs and idb storages load ' +
  'wa-sqlite-async.wasm from the same folder)'

/** The compiled wasm at `url`, or a StorageUnavailableError saying why not. */
export async function compileSqliteWasm(url: string): Promise<WebAssembly.Module> {
  let response: Response
  try {
    response = await fetch(url, { credentials: 'same-origin', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
  } catch (error) {
    throw new StorageUnavailableError(`SQLite's wasm could not be fetched from ${url}: ${reason(error)}`)
  }
  if (!response.ok) {
    throw new StorageUnavailableError(`SQLite's wasm could not be fetched from ${url}: HTTP ${response.status}; ${URL_HINT}`)
  }
  try {
    // Streaming compiles while the bytes arrive (and lets the browser cache the compiled code); it
    // needs the application/wasm type, which some servers do not send.
    if (
      typeof WebAssembly.compileStreaming === 'function' &&
      response.headers.get('content-type')?.startsWith('application/wasm')
    ) {
      return await WebAssembly.compileStreaming(response)
    }
    return await WebAssembly.compile(await response.arrayBuffer())
  } catch (error) {
    throw new StorageUnavailableError(instantiationFailure(url, error))
  }
}

/** Instantiates the wasm `compiled` from `url` with Emscripten's `imports`. */
export async function instantiateSqliteWasm(
  url: string,
  compiled: Promise<WebAssembly.Module>,
  imports: WebAssembly.Imports,
): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  const module = await compiled
  try {
    return { module, instance: await WebAssembly.instantiate(module, imports) }
  } catch (error) {
    throw new StorageUnavailableError(instantiationFailure(url, error))
  }
}

function instantiationFailure(url: string, error: unknown): string {
  const name = (error as Error)?.name
  const text = reason(error)
  // Chromium reports a CSP refusal as a CompileError: tell it apart by its message.
  if (/unsafe-eval|Content.Security.Policy/i.test(text)) {
    return `SQLite's wasm from ${url} was refused by the page's Content-Security-Policy (${text}); allow 'wasm-unsafe-eval'`
  }
  if (name === 'CompileError') return `SQLite's wasm from ${url} did not compile (${text}); ${URL_HINT}`
  if (name === 'LinkError')
    return `SQLite's wasm from ${url} belongs to another wa-sqlite build (${text}); serve the one this release ships`
  // Reading the body failed (the connection dropped, or the timeout).
  return `SQLite's wasm could not be fetched from ${url}: ${text}`
}

function reason(error: unknown): string {
  if ((error as Error)?.name === 'TimeoutError') return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`
  return (error as Error)?.message ?? String(error)
}
