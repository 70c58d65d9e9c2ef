// Extracts Kysely's test/node/src of one tag, with `git archive`, into the temp directory. Nothing
// of Kysely's is ever copied into this repository.
import { execFileSync, spawn } from 'node:child_process'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'

const TEST_DIR = 'test/node/src'

/** Returns the directory holding the tag's test/node/src files, and the tag's package.json. */
export async function extractTests(gitDir, tag, into) {
  await mkdir(into, { recursive: true })
  await new Promise((resolve, reject) => {
    const archive = spawn('git', ['--git-dir', gitDir, 'archive', '--format=tar', tag, TEST_DIR], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const untar = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'inherit', 'pipe'] })
    archive.stdout.pipe(untar.stdin)
    let errors = ''
    archive.stderr.on('data', (d) => (errors += d))
    untar.stderr.on('data', (d) => (errors += d))
    let pending = 2
    const done = (what) => (code) => {
      if (code !== 0) reject(new Error(`${what} exited with ${code}: ${errors.trim()}`))
      else if (--pending === 0) resolve()
    }
    archive.on('close', done(`git archive ${tag} ${TEST_DIR}`))
    untar.on('close', done('tar -x'))
  })
  const dir = join(into, TEST_DIR)
  const testFiles = (await readdir(dir)).filter((f) => f.endsWith('.test.ts')).sort()
  if (testFiles.length === 0) throw new Error(`${tag} has no ${TEST_DIR}/*.test.ts`)
  const packageJson = JSON.parse(execFileSync('git', ['--git-dir', gitDir, 'show', `${tag}:package.json`], { encoding: 'utf8' }))
  return { dir, testFiles, packageJson }
}
