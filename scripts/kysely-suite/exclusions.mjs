// Every test of Kysely's suite that is not run in the browser, and why. A test is only excluded
// when it cannot run in a browser page at all (it needs Node's file system, a Node module loader,
// ...): never because the dialect gets it wrong. Those run, fail, and are reported.
//
// `file`: the test file without `.test.ts`. `title`: the test's full mocha title, or a prefix of
// it ending in ' *' to exclude every test below a describe block, or '*' for the whole file.
// `versions`: the Kysely minor releases (of the tests' tag) the entry applies to.

export const EXCLUSIONS = [
  {
    versions: ['0.28', '0.29'],
    file: 'migration',
    title: 'sqlite: migration migrateToLatest using folder of migration files should run migrations from a folder',
    reason:
      "FileMigrationProvider lists Kysely's test-migrations/ folder with node:fs/promises readdir and " +
      'import()s each file by its file-system path; a browser page has neither that file system nor ' +
      'file-path imports. (The other migration tests, with in-memory migrations, do run.)',
  },
  {
    versions: ['0.29'],
    file: 'file-migration-provider',
    title: '*',
    reason:
      'Tests FileMigrationProvider alone, with no database: it creates and deletes migration files on the ' +
      'Node file system (node:fs/promises mkdir/writeFile/rm) and loads .cjs/.ts ones through tsx.',
  },
]

/** The entries for the tests of `tag` (e.g. v0.29.5 -> '0.29'). */
export function exclusionsFor(tag) {
  const minor = /^v?(\d+\.\d+)\./.exec(tag)?.[1]
  return EXCLUSIONS.filter((e) => e.versions.includes(minor))
}
