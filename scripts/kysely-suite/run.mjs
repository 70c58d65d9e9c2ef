#!/usr/bin/env node
// npm run test:kysely: Kysely's own SQLite test suite, from a tag of KYSELY_GIT, in headless
// Chromium, on MultiTabOpfsDialect from this repo's packed package. See options.mjs for usage.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { readOptions, refuse } from './options.mjs'
import { resolveVersions } from './resolve-version.mjs'
import { extractTests } from './extract-tests.mjs'
import { patchTests } from './patch-tests.mjs'
import { exclusionsFor } from './exclusions.mjs'
import { packDialect } from './pack-dialect.mjs'
import { installPackages } from './install-packages.mjs'
import { bundleTests, isReplacedModule } from './bundle.mjs'
import { writePage } from './write-page.mjs'
import { serve } from './serve-temp.mjs'
import { runInBrowser } from './run-browser.mjs'
import { Results } from './report.mjs'

// Kysely's own mocha timeout (package.json: mocha --timeout 15000).
const TEST_TIMEOUT_MS = 15_000

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const started = performance.now()
const seconds = (from) => (performance.now() - from) / 1000
const options = readOptions(process.argv.slice(2), process.env, repoRoot)

let versions
try {
  versions = resolveVersions(options)
} catch (error) {
  refuse(error.message)
}

const tmp = await mkdtemp(join(tmpdir(), 'kysely-suite-'))
let exitCode = 1
try {
  console.log(`Kysely's tests of ${versions.tag} (from ${options.kyselyGit}) against kysely ${versions.version}`)
  if (versions.note) console.log(`note: ${versions.note}`)

  const tests = await extractTests(options.kyselyGit, versions.tag, join(tmp, 'kysely'))
  tests.tag = versions.tag
  let files = tests.testFiles
  if (options.files) {
    const unknown = options.files.filter((f) => !files.includes(`${f}.test.ts`))
    if (unknown.length) throw new Error(`no such test file in ${versions.tag}: ${unknown.join(', ')}`)
    files = files.filter((f) => options.files.includes(f.replace(/\.test\.ts$/, '')))
  }
  console.log(`Patched (browser port of Node assumptions):`)
  for (const line of await patchTests(tests.dir, tests.testFiles)) console.log(`  ${line}`)

  const packed = await packDialect({ repoRoot, tmp, useDist: options.useDist })
  console.log(`Packed: ${basename(packed.tarball)}, built from ${packed.source} (${packed.files.join(', ')})`)

  const www = join(tmp, 'www')
  const installed = await installPackages({
    repoRoot,
    www,
    tarball: packed.tarball,
    versions,
    tests,
    isReplaced: isReplacedModule,
  })
  console.log(
    `Test tools: ${Object.entries(installed.tools)
      .map(([n, v]) => `${n} ${v}`)
      .join(', ')}`,
  )

  await bundleTests({
    testDir: tests.dir,
    testFiles: files,
    outDir: join(www, 'tests'),
    kyselyRoot: join(tmp, 'kysely'),
    kyselyUrlBase: installed.kyselyEntry.replace(/[^/]+$/, ''),
    nodePaths: installed.nodePaths,
  })
  const exclusions = exclusionsFor(versions.tag)
  await writePage({
    www,
    kyselyEntry: installed.kyselyEntry,
    dialectEntry: installed.dialectEntry,
    files: files.map((f) => f.replace(/\.ts$/, '')),
    exclusions,
    runId: Date.now().toString(36),
    timeoutMs: TEST_TIMEOUT_MS,
  })
  console.log(`Prepared in ${seconds(started).toFixed(1)} s; running ${files.length} test files in headless Chromium:`)

  const server = await serve(www)
  const results = new Results()
  const events = []
  const browserStarted = performance.now()
  let ended
  try {
    ended = await runInBrowser({
      url: server.url,
      timeoutMs: options.timeoutMs,
      onEvent: (event) => {
        events.push(event)
        results.onEvent(event)
      },
      onConsole: (type, text) => results.onConsole(type, text),
    })
  } finally {
    await server.close()
  }
  const browserSeconds = seconds(browserStarted)
  if (options.keep) {
    await writeFile(join(tmp, 'page-console.log'), results.consoleLines.join('\n') + '\n')
    await writeFile(join(tmp, 'events.json'), JSON.stringify(events, null, 1))
  }
  const totals = results.print({
    files: files.map((f) => f.replace(/\.ts$/, '')),
    ended,
    seconds: browserSeconds,
    header:
      `Kysely ${versions.tag} tests, kysely ${installed.kysely}, ${basename(packed.tarball)} (${packed.source}); ` +
      `total run time ${seconds(started).toFixed(1)} s (browser ${browserSeconds.toFixed(1)} s)`,
  })
  exitCode = totals.failed === 0 && totals.passed > 0 && ended === 'end' ? 0 : 1
} catch (error) {
  console.error(`test:kysely failed before the tests could run: ${error.stack ?? error}`)
  exitCode = 2
} finally {
  if (options.keep) console.log(`Temp directory kept: ${tmp}`)
  else await rm(tmp, { recursive: true, force: true })
}
process.exit(exitCode)
