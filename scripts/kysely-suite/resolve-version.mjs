// Decides which kysely release to install and which tag's tests to run against it.
import { execFileSync } from 'node:child_process'

const RELEASE = /^v?(\d+)\.(\d+)\.(\d+)$/

function parse(version) {
  const m = RELEASE.exec(version)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/** `0.29`, `0.29.x`, `~0.29` or an exact `0.29.9`: the newest matching release on the registry. */
function resolveLibraryVersion(requested, installed) {
  if (requested === installed) return installed
  if (parse(requested)) return requested
  const range = /^\d+\.\d+$/.test(requested) ? `${requested}.x` : requested
  const out = execFileSync('npm', ['view', `kysely@${range}`, 'version', '--json'], { encoding: 'utf8' })
  const found = [].concat(JSON.parse(out || '[]')).filter((v) => parse(v))
  if (found.length === 0) throw new Error(`no kysely release matches ${requested} on the registry`)
  return found.sort((a, b) => compare(parse(a), parse(b))).at(-1)
}

/** The tag `v<version>` (or `<version>`); else the newest tag of the same minor that is older. */
function resolveTag(gitDir, version, requestedTag) {
  const tags = execFileSync('git', ['--git-dir', gitDir, 'tag', '--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  if (requestedTag) {
    if (!tags.includes(requestedTag)) throw new Error(`tag ${requestedTag} is not in ${gitDir}`)
    return { tag: requestedTag, exact: true }
  }
  for (const candidate of [`v${version}`, version]) if (tags.includes(candidate)) return { tag: candidate, exact: true }
  const want = parse(version)
  const sameMinor = tags
    .filter((t) => {
      const p = parse(t)
      return p && p[0] === want[0] && p[1] === want[1] && compare(p, want) <= 0
    })
    .sort((a, b) => compare(parse(a), parse(b)))
  if (sameMinor.length === 0) throw new Error(`no tag of kysely ${want[0]}.${want[1]} at or below ${version} in ${gitDir}`)
  return { tag: sameMinor.at(-1), exact: false }
}

export function resolveVersions(options) {
  const version = resolveLibraryVersion(options.version, options.installedKyselyVersion)
  const { tag, exact } = resolveTag(options.kyselyGit, version, options.tag)
  return {
    version,
    tag,
    useInstalledKysely: version === options.installedKyselyVersion,
    note: exact
      ? undefined
      : `${options.kyselyGit} has no tag for kysely ${version}; running the tests of ${tag}, the newest tag of that minor release there`,
  }
}
