// The bench's static server (127.0.0.1 only): the repository root, never cached. SQLocal's pages
// and workers are served cross-origin isolated (COOP/COEP), which its OPFS VFS needs.
import { createServer } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { staticHandler } from '../scripts/static-files.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Paths served with Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy. */
const ISOLATED = /^\/bench\/\.build\/sqlocal\//
const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
}

export function startServer(port) {
  const server = createServer(
    staticHandler(root, { headersFor: (pathname) => (ISOLATED.test(pathname) ? ISOLATION_HEADERS : {}) }),
  )
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
