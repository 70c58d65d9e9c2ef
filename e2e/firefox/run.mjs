#!/usr/bin/env node
// `npm run test:firefox`: the cross-engine scenarios in Firefox ESR. Node 20 cannot load the
// TypeScript scenarios, so esbuild bundles the runner with them first (dependencies stay external
// and load from node_modules, hence the output under node_modules/.cache).
//
//   node e2e/firefox/run.mjs [--grep text] [--port 4191]     FIREFOX_PATH=... to pick a Firefox
import { build } from 'esbuild'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const args = process.argv.slice(2)
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)

const outfile = join(root, 'node_modules/.cache/kysely-multitab-firefox-e2e/runner.mjs')
await build({
  entryPoints: [join(root, 'e2e/firefox/runner.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
})
const { runFirefoxScenarios } = await import(pathToFileURL(outfile).href)
process.exitCode = await runFirefoxScenarios({
  root,
  grep: option('--grep'),
  // Not the Playwright suite's 4173, so both can run at once.
  port: Number(option('--port') ?? process.env.FIREFOX_E2E_PORT ?? 4191),
})
