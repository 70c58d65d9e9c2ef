// The request handler behind every static server of the repo (e2e/demo, bench, Kysely suite):
// files under `root` only, index.html for a directory; only installed packages may be cached.
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'

export const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** `headersFor(pathname)` adds headers to a file's response (e.g. COOP/COEP). */
export function staticHandler(root, { headersFor = () => ({}) } = {}) {
  return async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      let path = normalize(join(root, decodeURIComponent(url.pathname)))
      if (!path.startsWith(root)) throw Object.assign(new Error('outside root'), { status: 403 })
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html')
      const body = await readFile(path)
      res.writeHead(200, {
        'content-type': contentTypes[extname(path)] ?? 'application/octet-stream',
        // Installed packages do not change while a server runs (the e2e harness imports ~250 of
        // Kysely's files per tab); our own files (dist/, pages) are rebuilt, so never cached.
        'cache-control': url.pathname.startsWith('/node_modules/') ? 'max-age=600' : 'no-store',
        ...headersFor(url.pathname),
      })
      res.end(body)
    } catch (error) {
      res.writeHead(error.status ?? 404, { 'content-type': 'text/plain' })
      res.end(String(error.message ?? error))
    }
  }
}
