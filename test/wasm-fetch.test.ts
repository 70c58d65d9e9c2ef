import { afterEach, describe, expect, it, vi } from 'vitest'
import { compileSqliteWasm, instantiateSqliteWasm } from '../src/worker/wasm-fetch.js'
import { StorageUnavailableError } from '../src/protocol/errors.js'

/** The smallest valid wasm module: the magic word and version 1. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
/** A module importing a function `env.f` of type () -> (). */
const IMPORTING_MODULE = new Uint8Array([
  ...EMPTY_MODULE,
  ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00], // type section: one () -> ()
  ...[0x02, 0x09, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00], // import section: env.f, func type 0
])
const URL = 'https://app.example/assets/wa-sqlite.wasm'

/** What the worker does: compile (started early), then instantiate with Emscripten's imports. */
const fetchSqliteWasm = (url: string, imports: WebAssembly.Imports) => instantiateSqliteWasm(url, compileSqliteWasm(url), imports)

function serve(response: () => Promise<Response>): void {
  vi.stubGlobal('fetch', vi.fn(response))
}

afterEach(() => void vi.unstubAllGlobals())

describe('compileSqliteWasm + instantiateSqliteWasm', () => {
  it('instantiates a wasm served as application/wasm (streaming) or as anything else (after the download)', async () => {
    for (const [type, streamed] of [
      ['application/wasm', true],
      ['application/octet-stream', false],
    ] as const) {
      const streaming = vi.spyOn(WebAssembly, 'compileStreaming')
      serve(async () => new Response(EMPTY_MODULE, { headers: { 'content-type': type } }))
      const source = await fetchSqliteWasm(URL, {})
      expect(source.instance).toBeInstanceOf(WebAssembly.Instance)
      expect(source.module).toBeInstanceOf(WebAssembly.Module)
      expect(streaming.mock.calls.length).toBe(streamed ? 1 : 0)
      streaming.mockRestore()
    }
  })

  it('names the URL and the HTTP status when the server has no such file', async () => {
    serve(async () => new Response('ENOENT: no such file', { status: 404, headers: { 'content-type': 'text/plain' } }))
    const error = await fetchSqliteWasm(URL, {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as Error).message).toContain(`${URL}: HTTP 404`)
    expect((error as StorageUnavailableError).retryable).toBe(false)
  })

  it('says the fetch failed, and why, when the network does', async () => {
    serve(async () => Promise.reject(new TypeError('Failed to fetch')))
    const error = await fetchSqliteWasm(URL, {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as Error).message).toBe(`SQLite's wasm could not be fetched from ${URL}: Failed to fetch`)
  })

  it('says the download failed when the body does not arrive', async () => {
    const body = new ReadableStream({ start: (controller) => controller.error(new TypeError('network error')) })
    serve(async () => new Response(body, { headers: { 'content-type': 'application/octet-stream' } }))
    const error = await fetchSqliteWasm(URL, {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as Error).message).toBe(`SQLite's wasm could not be fetched from ${URL}: network error`)
  })

  it('says it did not compile when the bytes are not wasm (an HTML page served with 200)', async () => {
    serve(async () => new Response('<!doctype html><title>app</title>', { headers: { 'content-type': 'text/html' } }))
    const error = await fetchSqliteWasm(URL, {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as Error).message).toMatch(/^SQLite's wasm from .* did not compile \(/)
  })

  it('compiles before it is given the imports, and says when the imports do not fit (another build)', async () => {
    serve(async () => new Response(IMPORTING_MODULE, { headers: { 'content-type': 'application/wasm' } }))
    const compiled = compileSqliteWasm(URL)
    expect(await compiled).toBeInstanceOf(WebAssembly.Module)
    const fits = await instantiateSqliteWasm(URL, compiled, { env: { f: () => {} } })
    expect(fits.instance).toBeInstanceOf(WebAssembly.Instance)
    const error = await instantiateSqliteWasm(URL, compiled, { env: {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as Error).message).toMatch(/^SQLite's wasm from .* belongs to another wa-sqlite build \(/)
  })
})
