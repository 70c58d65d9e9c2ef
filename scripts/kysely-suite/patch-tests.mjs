// Patches the extracted copy of Kysely's tests where they assume Node or name the Node SQLite
// driver. Each patch must match exactly what it expects, or the run stops: a silent no-op would
// leave a test running against something else than intended.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Module ids the patched files import; the bundler maps them to scripts/kysely-suite/browser/. */
export const RUNTIME = {
  sqliteConfig: 'kysely-suite:sqlite-config',
  buffer: 'kysely-suite:buffer',
}

function replaceExactly(source, pattern, replacement, count, what) {
  const matches = source.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'))
  const found = matches?.length ?? 0
  if (count === '+' ? found === 0 : found !== count) {
    throw new Error(`patch "${what}": expected ${count === '+' ? 'at least one match' : `${count} match(es)`}, found ${found}`)
  }
  return source.replace(new RegExp(pattern.source, 'g'), replacement)
}

const PATCHES = [
  {
    file: 'test-setup.ts',
    what: 'DB_CONFIGS.sqlite: MultiTabOpfsDialect on a fresh database file (instead of better-sqlite3 :memory:)',
    apply: (s) =>
      `import { sqliteConfig as __suiteSqliteConfig } from '${RUNTIME.sqliteConfig}'\n` +
      replaceExactly(
        s,
        /\n  sqlite: \{\n    dialect: new SqliteDialect\(\{\n      database: async \(\) => new Database\(DIALECT_CONFIGS\.sqlite\.databasePath\),\n    \}\),\n    plugins: PLUGINS,\n  \},/,
        '\n  // Patched for the browser run: every read makes a new MultiTabOpfsDialect on a database file\n' +
          '  // of its own, as `new Database(":memory:")` gave every Kysely instance a database of its own.\n' +
          '  get sqlite() {\n    return __suiteSqliteConfig(PLUGINS)\n  },',
        1,
        'DB_CONFIGS.sqlite',
      ),
  },
  {
    file: 'test-setup.ts',
    what: 'DIALECTS: only sqlite (a process.env with DIALECTS=sqlite, as in `DIALECTS=sqlite mocha ...`)',
    apply: (s) => {
      replaceExactly(s, /process\.env\.DIALECTS/, '', '+', 'process.env.DIALECTS')
      return `const process = { env: { DIALECTS: 'sqlite' } as Record<string, string | undefined> }\n${s}`
    },
  },
  {
    file: 'transaction.test.ts',
    what: "the sqlite driver whose prototype the test stubs: the dialect's driver class, not SqliteDriver",
    apply: (s) =>
      `import { DriverClass as __suiteDriverClass } from '${RUNTIME.sqliteConfig}'\n` +
      replaceExactly(s, /\n(\s+)sqlite: SqliteDriver,\n/, '\n$1sqlite: __suiteDriverClass,\n', 1, 'sqlite: SqliteDriver'),
  },
]

/** Applies the patches; returns one line per patched file for the log. */
export async function patchTests(dir, testFiles) {
  const log = []
  for (const patch of PATCHES) {
    const path = join(dir, patch.file)
    await writeFile(path, patch.apply(await readFile(path, 'utf8')))
    log.push(`${patch.file}: ${patch.what}`)
  }
  // Node's global Buffer: in the browser, binary values are Uint8Arrays (see browser/buffer.js).
  for (const file of testFiles) {
    const path = join(dir, file)
    const source = await readFile(path, 'utf8')
    if (/(^|[^\w.])Buffer\./m.test(source) && !/import[^;]*\bBuffer\b[^;]*from/.test(source)) {
      await writeFile(path, `import { Buffer } from '${RUNTIME.buffer}'\n${source}`)
      log.push(`${file}: global Buffer -> browser stand-in (isBuffer: a Uint8Array; allocUnsafe: new Uint8Array)`)
    }
  }
  return log
}
