#!/usr/bin/env node
// `npm run test:firefox` / `npm run test:webkit`: the cross-engine scenarios in Firefox ESR or
// WebKitGTK. Node 20 cannot load the TypeScript scenarios, so esbuild bundles the runner with them
// first (dependencies stay external and load from node_modules, hence the output under
// node_modules/.cache).
//
//   node e2e/engines/run.mjs firefox|webkit [--grep text] [--port 4191]
//   FIREFOX_PATH=... picks a Firefox; WebKit needs gir1.2-webkit2-4.1, python3-gi and Xvfb (or $DISPLAY).
import { build } from 'esbuild'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const [engine, ...args] = process.argv.slice(2)
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
if (engine !== 'firefox' && engine !== 'webkit') {
  console.error('usage: node e2e/engines/run.mjs firefox|webkit [--grep text] [--port n]')
  process.exit(2)
}

const outfile = join(root, 'node_modules/.cache/kysely-multitab-engines-e2e/runner.mjs')
await build({
  entryPoints: [join(root, 'e2e/engines/runner.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
})
const { runScenarios } = await import(pathToFileURL(outfile).href)
process.exitCode = await runScenarios({
  engine,
  root,
  grep: option('--grep'),
  // Not the Playwright suite's 4173, so both can run at once (and one per engine).
  port: Number(option('--port') ?? (engine === 'firefox' ? 4191 : 4193)),
})
