#!/usr/bin/env node
// A small static server for the e2e pages, the demo and the benchmarks. It listens on 127.0.0.1
// only. The port is fixed by default because OPFS storage is per origin, and the port is part of
// the origin: tests that restart the browser must come back to the same one.
import { createServer } from 'node:http'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { heldResponses } from './held-responses.mjs'
import { staticHandler } from './static-files.mjs'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const args = process.argv.slice(2)
const portArg = args.indexOf('--port')
const port = Number(portArg >= 0 ? args[portArg + 1] : (process.env.PORT ?? 4173))
const demo = args.includes('--demo')
const example = args.includes('--example')

const files = staticHandler(root)
const held = demo || example ? () => false : heldResponses()
const server = createServer((req, res) => {
  if (held(req, res)) return
  // The demo's address is the server's own.
  if (demo && new URL(req.url ?? '/', 'http://127.0.0.1').pathname === '/') {
    res.writeHead(302, { location: '/demo/' })
    res.end()
    return
  }
  void files(req, res)
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
