import { afterEach, describe, expect, it, vi } from 'vitest'
import { fetchSqliteWasm } from '../src/worker/wasm-fetch.js'
import { StorageUnavailableError } from '../src/protocol/errors.js'

/** The smallest valid wasm module: the magic word and version 1. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
const URL = 'https://app.example/assets/wa-sqlite.wasm'

function serve(response: () => Promise<Response>): void {
  vi.stubGlobal('fetch', vi.fn(response))
}

afterEach(() => void vi.unstubAllGlobals())

describe('fetchSqliteWasm', () => {
  it('instantiates a wasm served as application/wasm (streaming) or as anything else (after the download)', async () => {
    for (const [type, streamed] of [['application/wasm', true], ['application/octet-stream', false]] as const) {
      const streaming = vi.spyOn(WebAssembly, 'instantiateStreaming')
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
})
