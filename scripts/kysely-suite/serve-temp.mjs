// Serves the temp directory's www/ to the page, on 127.0.0.1 only, on a free port.
import { createServer } from 'node:http'
import { staticHandler } from '../static-files.mjs'

/** Resolves to { url, close() } once listening. */
export function serve(root) {
  const files = staticHandler(root)
  const server = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname === '/favicon.ico') return void res.writeHead(204).end()
    void files(req, res)
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
