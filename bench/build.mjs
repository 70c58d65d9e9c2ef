#!/usr/bin/env node
// Bundles every contender of `npm run bench` with esbuild into bench/.build/<contender>/: a page
// script, its worker(s) as ES modules next to it, and the wasm they load. The dialect is bundled
// from src/ with the same options as tsup.config.ts (es2022, browser, wa-sqlite inlined into the
// tab worker), into its own folder: dist/ is left alone, so a test run elsewhere is not disturbed.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'bench/.build')
const c = (p) => join(root, 'bench/contenders', p)
const nm = (p) => join(root, 'node_modules', p)

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
}

/** SQLocal starts its worker with new URL('./worker', import.meta.url): point it at our bundle. */
const sqlocalWorkerUrl = {
  name: 'sqlocal-worker-url',
  setup(b) {
    b.onLoad({ filter: /sqlocal[\\/]dist[\\/]client\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises')
      let text = await readFile(args.path, 'utf8')
      const before = text
      text = text.replace("new URL('./worker', import.meta.url)", "new URL('./sqlocal-worker.js', import.meta.url)")
      if (text === before) throw new Error('sqlocal/dist/client.js: worker URL not found (another SQLocal version?)')
      return { contents: text, loader: 'js' }
    })
  },
}

const page = (title, coi) => `<!doctype html>
<meta charset="utf-8" />
<title>${title}</title>
<p>${title}${coi ? ' (served cross-origin isolated)' : ''}</p>
<script type="module" src="./page.js"></script>
`

/**
 * This dialect as it was at git ref `ref` (BENCH_BEFORE), into bench/.build/mtb/: its src/ is
 * extracted under bench/.build/before-src/ (so packages still resolve from this repo), and the
 * same page script is pointed at it. The bench then runs it side by side with the working tree.
 */
async function buildBefore(ref) {
  const srcRoot = join(out, 'before-src')
  await mkdir(srcRoot, { recursive: true })
  execFileSync('sh', ['-c', `git -C "${root}" archive "${ref}" src | tar -x -C "${srcRoot}"`])
  const beforeSrc = {
    name: 'before-src',
    setup(b) {
      b.onResolve({ filter: /[\\/]src[\\/]index\.ts$/ }, () => ({ path: join(srcRoot, 'src/index.ts') }))
    },
  }
  const dir = join(out, 'mtb')
  await mkdir(dir, { recursive: true })
  await Promise.all([
    build({ ...common, entryPoints: { page: c('mt-page.js') }, outdir: dir, plugins: [beforeSrc] }),
    build({
      ...common,
      entryPoints: {
        'tab-worker': join(srcRoot, 'src/worker/tab-worker-entry.ts'),
        coordinator: join(srcRoot, 'src/coordinator/coordinator-entry.ts'),
      },
      outdir: dir,
    }),
    copyFile(nm('wa-sqlite/dist/wa-sqlite.wasm'), join(dir, 'wa-sqlite.wasm')),
    writeFile(join(dir, 'index.html'), page(`kysely-multitab-opfs at ${ref}`)),
  ])
}

export async function buildBench() {
  const t0 = Date.now()
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  await writeFile(join(out, '.gitignore'), '*\n')
  const dirs = ['raw', 'mt', 'kww', 'sqlocal']
  for (const d of dirs) await mkdir(join(out, d), { recursive: true })

  await Promise.all([
    // 1-4: raw wa-sqlite rows
    build({ ...common, entryPoints: { page: c('raw-page.js') }, outdir: join(out, 'raw') }),
    build({
      ...common,
      entryPoints: { 'raw-worker': c('raw-worker.js'), 'raw-broker': c('raw-broker.js'), 'probe-worker': c('probe-worker.js') },
      outdir: join(out, 'raw'),
    }),
    copyFile(nm('wa-sqlite/dist/wa-sqlite.wasm'), join(out, 'raw/wa-sqlite.wasm')),
    // this dialect, from src/
    build({ ...common, entryPoints: { page: c('mt-page.js') }, outdir: join(out, 'mt') }),
    build({
      ...common,
      entryPoints: {
        'tab-worker': join(root, 'src/worker/tab-worker-entry.ts'),
        coordinator: join(root, 'src/coordinator/coordinator-entry.ts'),
      },
      outdir: join(out, 'mt'),
    }),
    copyFile(nm('wa-sqlite/dist/wa-sqlite.wasm'), join(out, 'mt/wa-sqlite.wasm')),
    copyFile(nm('wa-sqlite/dist/wa-sqlite-async.wasm'), join(out, 'mt/wa-sqlite-async.wasm')), // the storage fallbacks
    // kysely-wasqlite-worker
    build({ ...common, entryPoints: { page: c('kww-page.js') }, outdir: join(out, 'kww') }),
    build({ ...common, entryPoints: { 'kww-worker': nm('kysely-wasqlite-worker/dist/worker.mjs') }, outdir: join(out, 'kww') }),
    copyFile(nm('@subframe7536/sqlite-wasm/dist/wa-sqlite.wasm'), join(out, 'kww/wa-sqlite.wasm')),
    // SQLocal
    build({ ...common, entryPoints: { page: c('sqlocal-page.js') }, outdir: join(out, 'sqlocal'), plugins: [sqlocalWorkerUrl] }),
    build({ ...common, entryPoints: { 'sqlocal-worker': nm('sqlocal/dist/worker.js') }, outdir: join(out, 'sqlocal') }),
    copyFile(nm('@sqlite.org/sqlite-wasm/sqlite-wasm/jswasm/sqlite3.wasm'), join(out, 'sqlocal/sqlite3.wasm')),
    copyFile(
      nm('@sqlite.org/sqlite-wasm/sqlite-wasm/jswasm/sqlite3-opfs-async-proxy.js'),
      join(out, 'sqlocal/sqlite3-opfs-async-proxy.js'),
    ),
    writeFile(join(out, 'raw/index.html'), page('raw wa-sqlite')),
    writeFile(join(out, 'mt/index.html'), page('kysely-multitab-opfs')),
    writeFile(join(out, 'kww/index.html'), page('kysely-wasqlite-worker')),
    writeFile(join(out, 'sqlocal/index.html'), page('SQLocal (sqlocal/kysely)', true)),
  ])
  if (process.env.BENCH_BEFORE) await buildBefore(process.env.BENCH_BEFORE)
  return Date.now() - t0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ms = await buildBench()
  console.log(`bench/.build built in ${ms} ms`)
}
