// Builds and packs this package (`npm pack`, in a staging copy of the working tree: this repo's
// dist/ is not touched), then checks the tarball is what a bundler needs and nothing else of weight.
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { packDialect } from '../kysely-suite/pack-dialect.mjs'

/** Files a bundler must find: the ESM entry and its types, both workers, the wasm. */
const REQUIRED = [
  'dist/index.js',
  'dist/index.d.ts',
  'dist/tab-worker.js',
  'dist/coordinator.js',
  'dist/wa-sqlite.wasm',
  'dist/wa-sqlite-async.wasm',
]
/** Everything the package may hold. Anything else is a file shipped by mistake. */
const ALLOWED = /^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/[\w.-]+\.(js|js\.map|d\.ts|wasm|LICENSE))$/

/** Resolves to { tarball, source, packedBytes, unpackedBytes, files: [{ path, bytes }], problems: [] }. */
export async function packAndCheck({ repoRoot, tmp }) {
  const { tarball, source } = await packDialect({ repoRoot, tmp })
  const contents = join(tmp, 'package-contents')
  await mkdir(contents, { recursive: true })
  execFileSync('tar', ['-xzf', tarball, '-C', contents, '--strip-components=1'])
  const listing = execFileSync('tar', ['-tzvf', tarball], { encoding: 'utf8' })
  const files = listing
    .trim()
    .split('\n')
    .map((line) => {
      const parts = line.trim().split(/\s+/)
      return { path: parts.at(-1).replace(/^package\//, ''), bytes: Number(parts[2]) }
    })
    .sort((a, b) => a.path.localeCompare(b.path))
  const paths = new Set(files.map((f) => f.path))
  const problems = []

  for (const f of REQUIRED) if (!paths.has(f)) problems.push(`missing ${f}`)
  for (const f of files) if (!ALLOWED.test(f.path)) problems.push(`unexpected file ${f.path} (${f.bytes} bytes)`)

  const pkg = JSON.parse(await readFile(join(contents, 'package.json'), 'utf8'))
  if (pkg.type !== 'module') problems.push(`package.json type is ${pkg.type}, not module`)
  const root = pkg.exports?.['.']
  if (!root || typeof root !== 'object') problems.push('package.json has no exports["."] conditions')
  else {
    const conditions = Object.keys(root)
    if (conditions[0] !== 'types') problems.push(`exports["."]: "types" must come first (has ${conditions.join(', ')})`)
    const esm = root.import ?? root.default
    for (const [what, target] of [
      ['types', root.types],
      ['import', esm],
    ]) {
      if (typeof target !== 'string') problems.push(`exports["."] has no ${what} condition`)
      else if (!paths.has(target.replace(/^\.\//, ''))) problems.push(`exports["."].${what} -> ${target}, not in the package`)
    }
  }
  // The literal forms bundlers recognise (see src/client/asset-urls.ts).
  const index = await readFile(join(contents, 'dist/index.js'), 'utf8').catch(() => '')
  for (const [ctor, file] of [
    ['Worker', 'tab-worker.js'],
    ['SharedWorker', 'coordinator.js'],
  ]) {
    if (!new RegExp(`new ${ctor}\\(new URL\\(["']\\./${file.replace('.', '\\.')}["'], import\\.meta\\.url\\)`).test(index)) {
      problems.push(`dist/index.js does not start its ${ctor} as new ${ctor}(new URL('./${file}', import.meta.url), ...)`)
    }
  }
  const worker = await readFile(join(contents, 'dist/tab-worker.js'), 'utf8').catch(() => '')
  if (!/new URL\(["']\.\/wa-sqlite\.wasm["'], import\.meta\.url\)/.test(worker)) {
    problems.push(`dist/tab-worker.js does not find the wasm as new URL('./wa-sqlite.wasm', import.meta.url)`)
  }

  return {
    tarball,
    source,
    packedBytes: (await stat(tarball)).size,
    unpackedBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    files,
    problems,
  }
}
