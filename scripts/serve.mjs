#!/usr/bin/env node
// A small static server for the e2e pages, the demo and the benchmarks. It listens on 127.0.0.1
// only. The port is fixed by default because OPFS storage is per origin, and the port is part of
// the origin: tests that restart the browser must come back to the same one.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const args = process.argv.slice(2)
const portArg = args.indexOf('--port')
const port = Number(portArg >= 0 ? args[portArg + 1] : process.env.PORT ?? 4173)
const demo = args.includes('--demo')
const example = args.includes('--example')

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (demo && url.pathname === '/') {
      res.writeHead(302, { location: '/demo/' })
      res.end()
      return
    }
    let path = normalize(join(root, decodeURIComponent(url.pathname)))
    if (!path.startsWith(root)) throw Object.assign(new Error('outside root'), { status: 403 })
    if ((await stat(path)).isDirectory()) path = join(path, 'index.html')
    const body = await readFile(path)
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    res.end(body)
  } catch (error) {
    res.writeHead(error.status ?? 404, { 'content-type': 'text/plain' })
    res.end(String(error.message ?? error))
  }
})

server.on('error', (error) => {
  if (error.code !== 'EADDRINUSE') throw error
  const other = demo || example ? `PORT=${port + 1} npm run ${demo ? 'demo' : 'example'}` : `--port ${port + 1}`
  console.error(`Port ${port} on 127.0.0.1 is in use (another server or e2e run?). Stop it, or use another port: ${other}`)
  process.exit(1)
})

server.listen(port, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${port}`
  if (demo) console.log(`Demo: open ${base}/demo/ in several tabs (Ctrl+C to stop)`)
  else if (example) console.log(`Migrations example: open ${base}/migrations-example/ in several tabs (Ctrl+C to stop)`)
  else console.log(`Serving ${root} on ${base}`)
})
