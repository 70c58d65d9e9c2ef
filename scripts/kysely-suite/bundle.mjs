// Bundles the patched test files for the browser with esbuild: one ES module per test file (named
// like it, so stack traces name the test file), shared code in chunks. kysely and the dialect stay
// external: the page's import map points both at the installed packages, so the tests, Kysely and
// the dialect share one copy of Kysely, as they would in an app.
import { build } from 'esbuild'
import { existsSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RUNTIME } from './patch-tests.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const browserDir = join(here, 'browser')

/** Node-only modules of the tests -> browser/stand-ins/*.js */
const STAND_INS = {
  pg: 'pg.js',
  'pg-cursor': 'pg-cursor.js',
  mysql2: 'mysql2.js',
  tedious: 'tedious.js',
  tarn: 'tarn.js',
  'better-sqlite3': 'better-sqlite3.js',
  '@electric-sql/pglite': 'pglite.js',
  'tsx/cjs/api': 'tsx.js',
  'node:fs/promises': 'node-fs.js',
  'node:url': 'node-url.js',
  'node:timers/promises': 'node-timers-promises.js',
  'node:assert': 'assert.js',
  assert: 'assert.js',
  pathe: 'pathe.js',
}

const RUNTIME_FILES = {
  [RUNTIME.sqliteConfig]: 'sqlite-config.js',
  [RUNTIME.buffer]: 'buffer.js',
}

/** True for a module the bundle does not take from node_modules (stand-in, runtime, or served). */
export function isReplacedModule(specifier) {
  return (
    specifier in STAND_INS ||
    specifier.startsWith('kysely-suite:') ||
    specifier.startsWith('node:') ||
    specifier === 'kysely' ||
    specifier === 'kysely-multitab-opfs'
  )
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/**
 * `kyselyRoot`: where the tests' `../../../dist/...` imports land (Kysely's repo root in the temp
 * dir). `kyselyUrlBase`: the URL of the installed kysely's ESM build, e.g.
 * /node_modules/kysely/dist/esm/ (0.28) or /node_modules/kysely/dist/ (0.29).
 */
function browserRun({ kyselyRoot, kyselyUrlBase }) {
  const kyselyDist = join(kyselyRoot, 'dist') + sep
  return {
    name: 'kysely-suite',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${Object.keys(STAND_INS).map(escape).join('|')})$`) }, (args) => ({
        path: join(browserDir, 'stand-ins', STAND_INS[args.path]),
      }))
      b.onResolve({ filter: /^kysely-suite:/ }, (args) => ({ path: join(browserDir, RUNTIME_FILES[args.path]) }))
      // The packages the page's import map serves.
      b.onResolve({ filter: /^(kysely|kysely-multitab-opfs)$/ }, (args) => ({ path: args.path, external: true }))
      // Kysely's tests import Kysely's own build: ../../../dist/cjs/x.js (0.28), ../../../dist/x.js (0.29).
      b.onResolve({ filter: /^\.\.?\/.*dist\// }, (args) => {
        const target = resolve(args.resolveDir, args.path)
        if (!target.startsWith(kyselyDist)) return undefined
        const inDist = relative(kyselyDist, target)
          .split(sep)
          .join('/')
          .replace(/^(cjs|esm)\//, '')
        return { path: `${kyselyUrlBase}${inDist}`, external: true }
      })
      // Anything else Node-only that no stand-in covers must fail the bundle, not the page.
      b.onResolve({ filter: /^node:/ }, (args) => ({
        errors: [{ text: `${args.path} is Node-only and has no stand-in in scripts/kysely-suite/browser/stand-ins` }],
      }))
    },
  }
}

export async function bundleTests({ testDir, testFiles, outDir, kyselyRoot, kyselyUrlBase, nodePaths }) {
  const result = await build({
    entryPoints: testFiles.map((f) => join(testDir, f)),
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'esnext',
    nodePaths,
    tsconfigRaw: {},
    logLevel: 'silent',
    plugins: [browserRun({ kyselyRoot, kyselyUrlBase })],
  })
  for (const w of result.warnings) console.warn(`esbuild: ${w.text}`)
  if (!existsSync(join(outDir, testFiles[0].replace(/\.ts$/, '.js')))) throw new Error('esbuild wrote no test bundle')
}
