// Builds and packs this library as users get it (`npm pack`). The build runs in a staging copy of
// the working tree, so this repo's dist/ is never rewritten under an e2e run going on meanwhile.
import { execFileSync } from 'node:child_process'
import { cp, mkdir, symlink } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
  }
}

function pack(dir, into, source) {
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', into], dir))
  return { tarball: join(into, info.filename), files: info.files.map((f) => f.path), source }
}

/** Which code this is: the commit, and whether the working tree differs from it. */
function describeSource(repoRoot) {
  const head = run('git', ['rev-parse', '--short', 'HEAD'], repoRoot).trim()
  const dirty = run('git', ['status', '--porcelain', '--', 'src', 'tsup.config.ts', 'tsconfig.json'], repoRoot).trim()
  return `${head}${dirty ? ' + uncommitted changes' : ''}`
}

/** Returns the tarball's path and the files in it. */
export async function packDialect({ repoRoot, tmp, useDist }) {
  await mkdir(tmp, { recursive: true })
  if (useDist) {
    if (!existsSync(join(repoRoot, 'dist/index.js'))) throw new Error('--use-dist: dist/ is not built (npm run build)')
    return pack(repoRoot, tmp, 'the current dist/')
  }
  const source = `working tree at ${describeSource(repoRoot)}`
  const stage = join(tmp, 'stage')
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repoRoot)
    .split('\0')
    .filter((f) => f && existsSync(join(repoRoot, f)))
  for (const f of files) await cp(join(repoRoot, f), join(stage, f), { recursive: true })
  await symlink(join(repoRoot, 'node_modules'), join(stage, 'node_modules'), 'dir')
  run('npm', ['run', 'build'], stage)
  return pack(stage, tmp, source)
}
