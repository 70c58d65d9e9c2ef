// Serves the temp directory's www/ to the page, on 127.0.0.1 only, on a free port.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
}

/** Resolves to { url, close() } once listening. */
export function serve(root) {
  const server = createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1')
      if (pathname === '/favicon.ico') return void res.writeHead(204).end()
      let path = normalize(join(root, decodeURIComponent(pathname)))
      if (!path.startsWith(root)) throw Object.assign(new Error('outside root'), { status: 403 })
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html')
      const body = await readFile(path)
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
      res.end(body)
    } catch (error) {
      res.writeHead(error.status ?? 404, { 'content-type': 'text/plain' })
      res.end(String(error.message ?? error))
    }
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
