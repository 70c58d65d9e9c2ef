// The bench's static server (127.0.0.1 only): the repository root, never cached. SQLocal's pages
// and workers are served cross-origin isolated (COOP/COEP), which its OPFS VFS needs.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { dirname, extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
}
/** Paths served with Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy. */
const ISOLATED = /^\/bench\/\.build\/sqlocal\//

export function startServer(port) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      let path = normalize(join(root, decodeURIComponent(url.pathname)))
      if (!path.startsWith(root)) throw Object.assign(new Error('outside root'), { status: 403 })
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html')
      const body = await readFile(path)
      const headers = { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' }
      if (ISOLATED.test(url.pathname)) {
        headers['cross-origin-opener-policy'] = 'same-origin'
        headers['cross-origin-embedder-policy'] = 'require-corp'
        headers['cross-origin-resource-policy'] = 'same-origin'
      }
      res.writeHead(200, headers)
      res.end(body)
    } catch (error) {
      res.writeHead(error.status ?? 404, { 'content-type': 'text/plain' })
      res.end(String(error.message ?? error))
    }
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.BENCH_PORT ?? 4188)
  await startServer(port)
  console.log(`bench server on http://127.0.0.1:${port}/bench/.build/`)
}
