// Reads what the run needs from the environment and the command line, and refuses plainly (exit 2)
// when the Kysely repository is missing: without it nothing can be tested.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

export const USAGE = `Runs Kysely's own SQLite test suite in headless Chromium through MultiTabOpfsDialect.

  KYSELY_GIT=/path/to/kysely.git npm run test:kysely [-- options]

Environment:
  KYSELY_GIT        (required) a git directory of github.com/kysely-org/kysely with its tags
  KYSELY_VERSION    the kysely release to test against: 0.28.19, 0.29, 0.29.x ... (default: the
                    version installed in this repo's node_modules)
  KYSELY_TAG        the tag whose test/node/src to run (default: v<version>, else the newest tag of
                    the same minor that is not newer)
  CHROMIUM_PATH     the Chromium to use (default: Playwright's own, else /usr/bin/chromium)
  KYSELY_SUITE_TIMEOUT_MS  give up on the whole browser run after this long (default 1200000)

Options:
  --kysely-version X   same as KYSELY_VERSION
  --tag T              same as KYSELY_TAG
  --files a,b          only these test files (names without .test.ts)
  --use-dist           pack this repo's current dist/ instead of building a fresh one
  --keep               keep the temp directory (with events.json: every result and error
                       stack; page-console.log) and print its path
  --help`

/** Prints why nothing ran and exits non-zero. */
export function refuse(reason) {
  console.error(`test:kysely did NOT run: ${reason}`)
  console.error('')
  console.error(USAGE)
  process.exit(2)
}

export function readOptions(argv, env, repoRoot) {
  const args = [...argv]
  const options = {
    repoRoot,
    kyselyGit: env.KYSELY_GIT,
    version: env.KYSELY_VERSION || undefined,
    tag: env.KYSELY_TAG || undefined,
    files: undefined,
    useDist: false,
    keep: false,
    timeoutMs: Number(env.KYSELY_SUITE_TIMEOUT_MS) || 20 * 60_000,
  }
  while (args.length) {
    const arg = args.shift()
    const value = () => {
      const v = args.shift()
      if (v === undefined) refuse(`${arg} needs a value`)
      return v
    }
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE)
      process.exit(0)
    } else if (arg === '--kysely-version') options.version = value()
    else if (arg === '--tag') options.tag = value()
    else if (arg === '--files')
      options.files = value()
        .split(',')
        .map((f) => f.trim().replace(/\.test(\.ts)?$/, ''))
    else if (arg === '--use-dist') options.useDist = true
    else if (arg === '--keep') options.keep = true
    else refuse(`unknown option ${arg}`)
  }

  if (!options.kyselyGit) {
    refuse(
      'KYSELY_GIT is not set. Point it at a git directory of Kysely (a clone or bare mirror of ' +
        'github.com/kysely-org/kysely, with its tags); the tests are extracted from it at run time.',
    )
  }
  const probe = spawnSync('git', ['--git-dir', options.kyselyGit, 'rev-parse', '--git-dir'], { encoding: 'utf8' })
  if (probe.status !== 0) {
    refuse(`KYSELY_GIT=${options.kyselyGit} is not a git directory (${(probe.stderr || '').trim()})`)
  }

  const installed = join(repoRoot, 'node_modules/kysely/package.json')
  if (!existsSync(installed)) refuse('node_modules/kysely is missing: run npm install first')
  options.installedKyselyVersion = JSON.parse(readFileSync(installed, 'utf8')).version
  options.version ??= options.installedKyselyVersion
  return options
}
