#!/usr/bin/env node
// npm run test:consumers: does the package work from its npm tarball in a Vite app and a webpack
// app, with no bundler configuration, typed, on each Kysely line (0.29 and 0.28)? Packs this
// package, makes throwaway apps in a temp directory, installs the tarball and each app's tools
// from the npm registry, builds them, serves each build on 127.0.0.1, runs a 3-tab test in
// headless Chromium, and runs the app's tsc.
// Also tries Vite's dev server. Options: --only vite|webpack, --no-dev, --keep (keep the temp dir).
import { copyFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packAndCheck } from './pack.mjs'
import { BUNDLERS, KYSELY_LINES, commonPackages } from './bundlers.mjs'
import { createApp, installedVersions, runCommand, tail } from './consumer-app.mjs'
import { serveStatic } from './serve-static.mjs'
import { threeTabTest } from './three-tabs.mjs'
import { startViteDev } from './dev-server.mjs'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const args = process.argv.slice(2)
const keep = args.includes('--keep')
const withDev = !args.includes('--no-dev')
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
if (only && !BUNDLERS.some((b) => b.id === only)) {
  console.error(`--only: one of ${BUNDLERS.map((b) => b.id).join(', ')}`)
  process.exit(2)
}

const started = Date.now()
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`
/** Every check: { name, ok, known? } (known: an expected failure, reported but not counted). */
const checks = []

function record(name, ok, seconds, detail, { known, label = name } = {}) {
  checks.push({ name, ok, known })
  const mark = known ? (ok ? 'XPASS' : 'XFAIL') : ok ? 'PASS ' : 'FAIL '
  console.log(`${mark} ${label}${seconds !== undefined ? ` (${seconds.toFixed(1)} s)` : ''}`)
  if (detail) console.log(detail.replace(/^/gm, '      '))
}

/** The browser test's verdict, with what the server saw (the wasm's content type, any 404). */
function describeBrowserRun(result, serverLog) {
  const lines = result.steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${s.ms} ms)`)
  let ok = result.ok
  if (result.error) lines.push(`error: ${result.error}`)
  const log = serverLog ?? result.requests
  const wasm = log.filter((r) => r.path.endsWith('.wasm'))
  if (serverLog) {
    const missing = log.filter((r) => r.status !== 200)
    if (missing.length) lines.push(`not found: ${[...new Set(missing.map((r) => `${r.path} (${r.status})`))].join(', ')}`)
    if (result.ok && !wasm.some((r) => r.status === 200 && r.type === 'application/wasm')) {
      ok = false
      lines.push('the wasm was never served as application/wasm')
    }
    const scripts = [...new Set(log.filter((r) => r.path.endsWith('.js')).map((r) => r.path))]
    lines.push(`served: ${scripts.join(', ')}; ${[...new Set(wasm.map((r) => `${r.path} (${r.type})`))].join(', ')}`)
  } else {
    const failed = log.filter((r) => r.status === 'failed' || r.status >= 400)
    if (failed.length) lines.push(`failed requests: ${[...new Set(failed.map((r) => `${r.path} (${r.status})`))].join(', ')}`)
  }
  if (result.consoleErrors.length) lines.push(`console errors: ${[...new Set(result.consoleErrors)].slice(0, 5).join(' | ')}`)
  return { ok, detail: lines.join('\n') }
}

async function listFiles(dir, base = dir) {
  const out = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(path, base)))
    else out.push(`${path.slice(base.length + 1)} ${kb((await stat(path)).size)}`)
  }
  return out.sort()
}

async function testBundler(bundler, kysely, tarball, tmp) {
  const app = `${bundler.id}, kysely ${kysely}`
  const dir = join(tmp, `${bundler.id}-kysely-${kysely}-app`)
  const names = ['build', '3 tabs', 'tsc'].map((n) => `${app}: ${n}`)
  const install = await createApp({
    dir,
    name: `${bundler.id}-consumer`,
    type: bundler.type,
    packages: [tarball, ...commonPackages(kysely), ...bundler.packages],
  })
  if (!install.ok) {
    record(names[0], false, install.seconds, `npm install failed:\n${tail(install.output)}`)
    for (const n of names.slice(1)) record(n, false, undefined, 'not run: npm install failed')
    return undefined
  }
  const versions = await installedVersions(dir, [
    bundler.tool,
    ...(bundler.id === 'webpack' ? ['webpack-cli'] : []),
    'typescript',
    'kysely',
  ])
  console.log(
    `\n${app}: installed in ${install.seconds.toFixed(1)} s: ${Object.entries(versions)
      .map(([n, v]) => `${n} ${v}`)
      .join(', ')}`,
  )
  await bundler.writeSources(dir, kysely)

  const [command, commandArgs] = bundler.build
  const build = await runCommand(join(dir, command), commandArgs, { cwd: dir, timeoutMs: 240_000 })
  if (build.ok) await bundler.afterBuild(dir)
  const outDir = join(dir, bundler.outDir)
  const emitted = build.ok ? await listFiles(outDir) : []
  record(names[0], build.ok, build.seconds, build.ok ? `emitted: ${emitted.join(', ')}` : tail(build.output), {
    label: `${names[0]} (${command.split('/').pop()} ${commandArgs.join(' ')})`,
  })

  if (build.ok) {
    const server = await serveStatic(outDir)
    const t0 = Date.now()
    const result = await threeTabTest(server.url).finally(() => server.close())
    const { ok, detail } = describeBrowserRun(result, server.log)
    record(names[1], ok, (Date.now() - t0) / 1000, detail)
  } else record(names[1], false, undefined, 'not run: the build failed')

  const tsc = await runCommand(join(dir, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], { cwd: dir, timeoutMs: 180_000 })
  record(names[2], tsc.ok, tsc.seconds, tsc.ok ? undefined : tail(tsc.output, 40))
  return dir
}

async function testViteDev(dir) {
  const variants = [
    { name: 'vite dev server, no config', known: true },
    { name: 'vite dev server, optimizeDeps.exclude', configFile: 'vite.exclude.config.js' },
  ]
  for (const variant of variants) {
    const t0 = Date.now()
    let dev
    try {
      if (variant.configFile)
        await copyFile(join(dirname(fileURLToPath(import.meta.url)), 'app', variant.configFile), join(dir, variant.configFile))
      dev = await startViteDev({ dir, configFile: variant.configFile })
      const result = await threeTabTest(dev.url)
      const { ok, detail } = describeBrowserRun(result)
      record(variant.name, ok, (Date.now() - t0) / 1000, detail, variant)
    } catch (error) {
      record(variant.name, false, (Date.now() - t0) / 1000, String(error.message ?? error), variant)
    } finally {
      await dev?.stop()
    }
  }
}

const tmp = await mkdtemp(join(tmpdir(), 'consumer-apps-'))
let exitCode = 1
try {
  const t0 = Date.now()
  const pack = await packAndCheck({ repoRoot, tmp })
  const maps = pack.files.filter((f) => f.path.endsWith('.map')).reduce((s, f) => s + f.bytes, 0)
  record(
    `package: npm pack of the ${pack.source}`,
    pack.problems.length === 0,
    (Date.now() - t0) / 1000,
    [
      `${pack.tarball.split('/').pop()}: ${kb(pack.packedBytes)} packed, ${kb(pack.unpackedBytes)} unpacked (source maps ${kb(maps)}), ${pack.files.length} files:`,
      ...pack.files.map((f) => `  ${f.path.padEnd(26)} ${kb(f.bytes).padStart(10)}`),
      ...pack.problems.map((p) => `problem: ${p}`),
    ].join('\n'),
  )

  let viteDir
  for (const kysely of KYSELY_LINES) {
    for (const bundler of BUNDLERS.filter((b) => !only || b.id === only)) {
      const dir = await testBundler(bundler, kysely, pack.tarball, tmp)
      if (bundler.id === 'vite' && kysely === KYSELY_LINES[0]) viteDir = dir
    }
  }
  if (withDev && viteDir) {
    console.log('')
    await testViteDev(viteDir)
  }

  const counted = checks.filter((c) => !c.known)
  const passed = counted.filter((c) => c.ok).length
  const failed = counted.length - passed
  console.log(`\nConsumer apps, in ${((Date.now() - started) / 1000).toFixed(0)} s:`)
  for (const c of checks) console.log(`  ${c.known ? (c.ok ? 'XPASS' : 'XFAIL') : c.ok ? 'PASS ' : 'FAIL '} ${c.name}`)
  const known = checks.filter((c) => c.known)
  if (known.length)
    console.log(
      `(${known.length} known failure${known.length > 1 ? 's' : ''} not counted: XFAIL is expected, XPASS means it got fixed)`,
    )
  console.log(`${passed} passed, ${failed} failed`)
  exitCode = failed === 0 ? 0 : 1
} catch (error) {
  console.error(`test:consumers could not run: ${error.stack ?? error}`)
  exitCode = 2
} finally {
  if (keep) console.log(`Temp directory kept: ${tmp}`)
  else await rm(tmp, { recursive: true, force: true })
}
process.exit(exitCode)
