/**
 * Opening the engine: the storage's files, SQLite's connection to them, the connection's settings,
 * its handlers (progress, authorizer), and the app's `connectionSetup`. The caller must hold the
 * role lock (see role-acquisition.ts): the storages do no locking of their own.
 *
 * Whatever fails on the way closes what was opened, connection and files, so the next holder
 * elected finds them free.
 */
import * as SQLite from 'wa-sqlite'
import { SqliteError } from '../protocol/errors.js'
import { openStorage, type DatabaseStorage, type StorageOptions } from './database-storage.js'
import { toEngineError } from './engine-errors.js'
import { guardLedger } from './ledger-guard.js'
import type { SqliteEngine } from './sqlite-engine.js'
import type { TableAccessCollector } from './table-access.js'

const SQLITE_OPEN_EXRESCODE = 0x02000000
/**
 * SQLite calls the progress handler every this many virtual machine steps: often enough that a
 * long statement heartbeats and meets its time limit within a small fraction of a second, rarely
 * enough to cost nothing measurable (a short statement takes fewer steps and is never called).
 */
const PROGRESS_STEPS = 10_000

export interface OpenOptions extends StorageOptions {
  readonly filename: string
  /** The app's connection settings, run before the engine is handed out (see `connectionSetup`). */
  readonly setup?: readonly string[]
}

/** An engine made on an open connection, and the handlers SQLite is to call on it. */
export interface EngineOnConnection {
  readonly engine: SqliteEngine
  /** Records what each statement touches (see table-access.ts). */
  readonly authorize: TableAccessCollector['authorize']
  /** SQLite's progress handler: non-zero interrupts the running statement. */
  readonly progress: () => number
}

/** Opens (creating if needed) the database, with `create` making the engine on the connection. */
export async function openEngine(
  options: OpenOptions,
  create: (storage: DatabaseStorage, db: number) => EngineOnConnection,
): Promise<SqliteEngine> {
  const storage = await openStorage(options)
  const { sqlite3 } = storage
  let db = 0
  try {
    db = await sqlite3.open_v2(
      options.filename,
      SQLite.SQLITE_OPEN_CREATE | SQLite.SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE,
      storage.vfsName,
    )
    const { engine, authorize: collect, progress } = create(storage, db)
    // One connection holds these files at a time (the role lock), so SQLite may keep its lock
    // and skip re-reading the header and looking for a hot journal before every transaction;
    // and a truncated journal is as safe as a deleted one, without a file created and deleted
    // (a pool header rewrite and flush) per commit.
    await engine.exec('pragma locking_mode = exclusive', [])
    await engine.exec('pragma journal_mode = truncate', [])
    // Temporary files (sorts that spill, temp tables, statement journals) in memory: on OPFS
    // each would take a slot of the access-handle pool, which holds a fixed number of files
    // (the database and its journal use two), and a statement that needs one more waits on.
    await engine.exec('pragma temp_store = memory', [])
    sqlite3.progress_handler(db, PROGRESS_STEPS, progress, null)
    sqlite3.set_authorizer(
      db,
      (data: unknown, action: number, arg1: string | null, arg2: string | null, database: string | null, source: string | null) =>
        guardLedger(action, arg1, arg2, source) || collect(data, action, arg1, arg2, database, source),
      null,
    )
    // Reading the schema fails here, not on the app's first query, if the file is not a database.
    await engine.exec('select count(*) from sqlite_master', [])
    await runSetup(engine, options.setup ?? [])
    return engine
  } catch (error) {
    if (db) await sqlite3.close(db).catch(() => {})
    await storage.close().catch(() => {})
    throw toEngineError(error)
  }
}

/** Runs the app's `connectionSetup`; an error names the statement and keeps SQLite's code. */
async function runSetup(engine: SqliteEngine, setup: readonly string[]): Promise<void> {
  for (const [i, sql] of setup.entries()) {
    try {
      await engine.exec(sql, [])
      if (engine.inTransaction) throw new SqliteError('it left a transaction open', 1)
    } catch (error) {
      const code = error instanceof SqliteError ? error.resultCode : 1
      throw new SqliteError(`connectionSetup[${i}] (${sql}) failed: ${(error as Error).message}`, code)
    }
  }
}
