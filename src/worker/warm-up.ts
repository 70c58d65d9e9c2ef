/**
 * A warm standby's rehearsal: SQLite run once, on a throwaway in-memory database, by the worker of
 * the tab next in line for the active role (the `warmStandby` option).
 *
 * Fetching and compiling the wasm is most of a failover; V8 also compiles each wasm function
 * lazily, on its first call, so the first open and the first statements of a fresh module pay for
 * compiling SQLite's parser, pager and b-tree code. Both are done here, ahead of time, with the
 * statements an app's first queries go through (schema, writes in a transaction, reads by key and
 * by index), in the same journal and locking modes as the real database.
 */
import * as SQLite from 'wa-sqlite'
import { MemoryVFS } from 'wa-sqlite/src/examples/MemoryVFS.js'
import { bindParameters, type BindingModule } from './statement-binding.js'
import type { SqlValue } from '../protocol/message-fields.js'

const REHEARSAL: ReadonlyArray<readonly [string, readonly SqlValue[]]> = [
  ['pragma locking_mode = exclusive', []],
  ['pragma journal_mode = truncate', []],
  ['select count(*) from sqlite_master', []],
  ['create table if not exists warm (id integer primary key, k text not null, n integer, b blob)', []],
  ['create index if not exists warm_k on warm (k)', []],
  ['begin immediate', []],
  ...Array.from(
    { length: 20 },
    (_, i) => ['insert into warm (k, n, b) values (?, ?, ?)', [`key ${i}`, i, new Uint8Array([i])]] as const,
  ),
  ['commit', []],
  ['select id, k, n, b from warm where id = ?', [3]],
  ['select count(*), sum(n), max(k) from warm where k like ? group by n % 3 order by 1', ['key%']],
  ['update warm set n = n + 1 where k = ?', ['key 4']],
  ['delete from warm where id = ?', [5]],
  ['select last_insert_rowid()', []],
  ['drop table warm', []],
]

let counter = 0

/** Runs the rehearsal on `sqlite3` (a freshly loaded build). Never touches a real database. */
export async function rehearse(sqlite3: SQLiteAPI, module: BindingModule): Promise<void> {
  const vfs = new (class extends MemoryVFS {
    override name = `kysely-multitab-warm-${++counter}`
  })()
  sqlite3.vfs_register(vfs as never, false)
  const db = await sqlite3.open_v2('warm.db', SQLite.SQLITE_OPEN_CREATE | SQLite.SQLITE_OPEN_READWRITE, vfs.name)
  try {
    for (const [sql, params] of REHEARSAL) {
      const str = sqlite3.str_new(db, sql)
      try {
        const prepared = await sqlite3.prepare_v2(db, sqlite3.str_value(str))
        if (!prepared) continue
        try {
          bindParameters(sqlite3, module, prepared.stmt, params)
          while ((await sqlite3.step(prepared.stmt)) === SQLite.SQLITE_ROW) sqlite3.row(prepared.stmt)
        } finally {
          await sqlite3.finalize(prepared.stmt)
        }
      } finally {
        sqlite3.str_finish(str)
      }
    }
  } finally {
    await sqlite3.close(db)
    ;(vfs as unknown as { close(): void }).close() // its files, now deleted anyway
  }
}
