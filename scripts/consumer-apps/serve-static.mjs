// A tiny static server for a consumer app's build output: 127.0.0.1 only, a free port, the right
// content types (the wasm as application/wasm, which WebAssembly.instantiateStreaming requires),
// and a log of what was asked for, so the test can tell which files the browser really loaded.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
}

/** Resolves to { url, log, close() } once listening. `log`: [{ path, status, type }]. */
export function serveStatic(root) {
  const log = []
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (pathname === '/favicon.ico') return void res.writeHead(204).end()
    let status = 200
    let type = 'text/plain'
    try {
      let path = normalize(join(root, decodeURIComponent(pathname)))
      if (path !== root && !path.startsWith(root + sep)) throw Object.assign(new Error('outside root'), { status: 403 })
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html')
      const body = await readFile(path)
      type = TYPES[extname(path)] ?? 'application/octet-stream'
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    } catch (error) {
      status = error.status ?? 404
      res.writeHead(status, { 'content-type': type })
      res.end(String(error.message ?? error))
    }
    log.push({ path: pathname, status, type })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        log,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
