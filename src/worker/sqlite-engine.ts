/**
 * SQLite (wa-sqlite's synchronous build) on the OPFS pool of opfs-pool.ts: statements (prepared
 * once and cached), results shaped as Kysely's SQLite driver shapes them, and which tables each
 * transaction wrote.
 *
 * The pool does no locking of its own: the worker opens it only while it holds the database's role
 * lock (see active-database.ts), so exactly one engine in the origin has the files open.
 */
import SQLiteESMFactory from 'wa-sqlite/dist/wa-sqlite.mjs'
import * as SQLite from 'wa-sqlite'
import type { AccessHandlePoolVFS } from 'wa-sqlite/src/examples/AccessHandlePoolVFS.js'
import { SqliteError } from '../protocol/errors.js'
import { openPool } from './opfs-pool.js'
import { bindParameters, type BindingModule } from './statement-binding.js'
import type { SqlValue } from '../protocol/messages.js'
import { LEDGER_TABLE } from '../protocol/names.js'
import { NO_ACCESS, TableAccessCollector, mergeAccess, type TableAccess } from './table-access.js'

const SQLITE_OPEN_EXRESCODE = 0x02000000
/** A ROLLBACK of the whole transaction (not ROLLBACK TO a savepoint). */
const ROLLBACK_SQL = /^\s*rollback\b(?!\s+(transaction\s+)?to\b)/i
const STATEMENT_CACHE_SIZE = 64

/** What one statement produced. */
export interface StatementResult {
  columns?: string[]
  rows?: SqlValue[][]
  changes?: number
  lastInsertRowid?: bigint
}

interface Prepared {
  readonly stmt: number
  readonly access: TableAccess
}

export interface OpenOptions {
  readonly directory: string
  readonly filename: string
  readonly wasmUrl: string
  /** How many times to try for busy access handles before giving up. */
  readonly attempts: number
  readonly retryDelayMs: number
}

type EmscriptenModule = {
  _sqlite3_malloc(n: number): number
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number
  _getSqliteFree(): number
  UTF8ToString(ptr: number): string
}

/** The VFS methods used directly (to read and write whole files), as wa-sqlite's VFS defines them. */
interface RawVfs {
  xOpen(name: string, fileId: number, flags: number, pOutFlags: DataView): number
  xClose(fileId: number): number
  xRead(fileId: number, pData: Uint8Array, iOffset: number): number
  xWrite(fileId: number, pData: Uint8Array, iOffset: number): number
  xTruncate(fileId: number, iSize: number): number
  xSync(fileId: number, flags: number): number
  xFileSize(fileId: number, pSize64: DataView): number
  xDelete(name: string, syncDir: number): number
}

/** A file id SQLite never uses (its ids are memory addresses, which are positive). */
const EXPORT_FILE_ID = -7

let modulePromise: Promise<{ module: EmscriptenModule; sqlite3: SQLiteAPI }> | undefined
let vfsCounter = 0

function loadModule(wasmUrl: string) {
  modulePromise ??= (async () => {
    const module = await SQLiteESMFactory({ locateFile: () => wasmUrl })
    return { module: module as EmscriptenModule, sqlite3: SQLite.Factory(module) }
  })()
  return modulePromise
}

export class SqliteEngine {
  readonly #sqlite3: SQLiteAPI
  readonly #module: EmscriptenModule
  readonly #db: number
  readonly #pool: AccessHandlePoolVFS
  readonly #cache = new Map<string, Prepared>()
  readonly #access = new TableAccessCollector((table) => table.startsWith('sqlite_') || table === LEDGER_TABLE)
  /** The tables the last statement prepared touched. */
  lastAccess: TableAccess = NO_ACCESS
  /** Tables written by the open transaction, and by transactions committed since the last take. */
  #uncommitted = new Set<string>()
  #committed = new Set<string>()
  #lastRowidStmt = 0
  #closed = false

  private constructor(module: EmscriptenModule, sqlite3: SQLiteAPI, db: number, pool: AccessHandlePoolVFS) {
    this.#module = module
    this.#sqlite3 = sqlite3
    this.#db = db
    this.#pool = pool
  }

  /** Starts fetching and compiling the wasm (e.g. while waiting for the role lock). */
  static preload(wasmUrl: string): void {
    void loadModule(wasmUrl).catch(() => {})
  }

  /** Opens (creating if needed) the database; the caller must hold the role lock. */
  static async open(options: OpenOptions): Promise<SqliteEngine> {
    const { module, sqlite3 } = await loadModule(options.wasmUrl)
    const name = `kysely-multitab-${++vfsCounter}`
    const pool = await openPool(options, name)
    // The default VFS, so that ATTACH (used to import a database file) finds files in the pool too.
    sqlite3.vfs_register(pool as never, true)
    let db = 0
    try {
      db = await sqlite3.open_v2(
        options.filename,
        SQLite.SQLITE_OPEN_CREATE | SQLite.SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE,
        name,
      )
      const engine = new SqliteEngine(module, sqlite3, db, pool)
      // One connection holds these files at a time (the role lock), so SQLite may keep its lock
      // and skip re-reading the header and looking for a hot journal before every transaction;
      // and a truncated journal is as safe as a deleted one, without a file created and deleted
      // (a pool header rewrite and flush) per commit.
      await engine.exec('pragma locking_mode = exclusive', [])
      await engine.exec('pragma journal_mode = truncate', [])
      sqlite3.set_authorizer(db, engine.#access.authorize, null)
      // Reading the schema fails here, not on the app's first query, if the file is not a database.
      await engine.exec('select count(*) from sqlite_master', [])
      return engine
    } catch (error) {
      if (db) await sqlite3.close(db).catch(() => {})
      await pool.close().catch(() => {})
      throw toEngineError(error)
    }
  }

  /** Whether a transaction is open on the connection. */
  get inTransaction(): boolean {
    return !this.#closed && this.#sqlite3.get_autocommit(this.#db) === 0
  }

  /** Runs one statement (or, for a script of several, each in turn, returning the last's result). */
  async exec(sql: string, params: readonly SqlValue[]): Promise<StatementResult> {
    try {
      const cached = this.#cache.get(sql)
      let result: StatementResult
      if (cached) {
        this.#cache.delete(sql)
        this.#cache.set(sql, cached)
        this.lastAccess = cached.access
        result = await this.#run(cached.stmt, params)
      } else {
        result = await this.#prepareAndRun(sql, params, true)
      }
      this.#track(sql, true)
      return result
    } catch (error) {
      this.#track(sql, false)
      throw toEngineError(error)
    }
  }

  /**
   * The tables written by transactions that committed since the last call (never those of a
   * transaction rolled back): what other tabs should hear about.
   */
  get hasCommittedWrites(): boolean {
    return this.#committed.size > 0
  }

  takeCommittedWrites(): ReadonlySet<string> {
    const committed = this.#committed
    this.#committed = new Set()
    return committed
  }

  #track(sql: string, ok: boolean): void {
    if (ok) for (const table of this.lastAccess.writes) this.#uncommitted.add(table)
    if (this.inTransaction) return
    // The transaction (explicit or the statement's own) has ended: committed unless rolled back.
    if (ok && !ROLLBACK_SQL.test(sql)) for (const table of this.#uncommitted) this.#committed.add(table)
    this.#uncommitted.clear()
  }

  /** Rolls back an open transaction (a revoked lease's, or a dead tab's). */
  async rollback(): Promise<void> {
    if (this.inTransaction) await this.exec('rollback', [])
    this.#uncommitted.clear()
  }

  /**
   * Reads a whole file of the pool (e.g. the main database) through the VFS. The caller makes
   * sure no transaction is open, so the main file holds exactly the committed database.
   */
  readFile(name: string): Uint8Array {
    const pool = this.#pool as unknown as RawVfs
    const id = EXPORT_FILE_ID
    if (pool.xOpen(name, id, SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READONLY, new DataView(new ArrayBuffer(4))) !== 0) {
      throw new SqliteError(`cannot open ${name} for reading`, SQLite.SQLITE_CANTOPEN)
    }
    try {
      const size = new DataView(new ArrayBuffer(8))
      pool.xFileSize(id, size)
      const bytes = new Uint8Array(Number(size.getBigInt64(0, true)))
      const rc = pool.xRead(id, bytes, 0)
      if (rc !== 0) throw new SqliteError(`cannot read ${name}`, rc)
      return bytes
    } finally {
      pool.xClose(id)
    }
  }

  /** Writes `bytes` as a whole file of the pool, replacing it, and syncs it. */
  writeFile(name: string, bytes: Uint8Array): void {
    const pool = this.#pool as unknown as RawVfs
    const id = EXPORT_FILE_ID
    const flags = SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READWRITE | SQLite.SQLITE_OPEN_CREATE
    if (pool.xOpen(name, id, flags, new DataView(new ArrayBuffer(4))) !== 0) {
      throw new SqliteError(`cannot create ${name} (no free file in the pool)`, SQLite.SQLITE_CANTOPEN)
    }
    try {
      let rc = pool.xTruncate(id, 0)
      if (rc === 0) rc = pool.xWrite(id, bytes, 0)
      if (rc === 0) rc = pool.xSync(id, 0)
      if (rc !== 0) throw new SqliteError(`cannot write ${name}`, rc)
    } finally {
      pool.xClose(id)
    }
  }

  /** Deletes a file of the pool (its OPFS file goes back to the pool). */
  deleteFile(name: string): void {
    ;(this.#pool as unknown as RawVfs).xDelete(name, 0)
  }

  /** Closes the database and every access handle, so the next holder can open them. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const { stmt } of this.#cache.values()) await this.#sqlite3.finalize(stmt)
    this.#cache.clear()
    if (this.#lastRowidStmt) await this.#sqlite3.finalize(this.#lastRowidStmt)
    await this.#sqlite3.close(this.#db).catch(() => {})
    await this.#pool.close()
  }

  /** The tables `sql` would read and write, without running it. */
  async describe(sql: string): Promise<TableAccess> {
    try {
      const cached = this.#cache.get(sql)
      if (cached) return cached.access
      await this.#prepareAndRun(sql, [], false)
      return this.lastAccess
    } catch (error) {
      throw toEngineError(error)
    }
  }

  async #prepareAndRun(sql: string, params: readonly SqlValue[], run: boolean): Promise<StatementResult> {
    const sqlite3 = this.#sqlite3
    const str = sqlite3.str_new(this.#db, sql)
    let access = NO_ACCESS
    try {
      let next = sqlite3.str_value(str)
      let result: StatementResult = {}
      let first = true
      for (;;) {
        this.#access.begin()
        let prepared
        try {
          prepared = await sqlite3.prepare_v2(this.#db, next)
        } finally {
          access = mergeAccess(access, this.#access.end())
          this.lastAccess = access
        }
        if (!prepared) break
        next = prepared.sql
        const rest = this.#module.UTF8ToString(next).trim()
        if (first && rest === '') {
          // A single statement: keep it prepared for the next time the same SQL comes.
          this.#remember(sql, { stmt: prepared.stmt, access })
          return run ? await this.#run(prepared.stmt, params) : {}
        }
        try {
          if (run) result = await this.#run(prepared.stmt, first ? params : [])
        } finally {
          await sqlite3.finalize(prepared.stmt)
        }
        first = false
        if (rest === '') break
      }
      return result
    } finally {
      sqlite3.str_finish(str)
    }
  }

  #remember(sql: string, prepared: Prepared): void {
    this.#cache.set(sql, prepared)
    if (this.#cache.size > STATEMENT_CACHE_SIZE) {
      const [oldSql, old] = this.#cache.entries().next().value as [string, Prepared]
      this.#cache.delete(oldSql)
      void this.#sqlite3.finalize(old.stmt)
    }
  }

  async #run(stmt: number, params: readonly SqlValue[]): Promise<StatementResult> {
    const sqlite3 = this.#sqlite3
    try {
      bindParameters(this.#sqlite3, this.#module, stmt, params)
      const columnCount = sqlite3.column_count(stmt)
      if (columnCount > 0) {
        const columns = sqlite3.column_names(stmt)
        const rows: SqlValue[][] = []
        while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) {
          rows.push(sqlite3.row(stmt) as SqlValue[])
        }
        return { columns, rows }
      }
      while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) {
        // A statement without result columns has nothing to read.
      }
      return { changes: sqlite3.changes(this.#db), lastInsertRowid: await this.#lastInsertRowid() }
    } finally {
      await sqlite3.reset(stmt).catch(() => {})
    }
  }

  async #lastInsertRowid(): Promise<bigint> {
    // wa-sqlite 1.0 does not export sqlite3_last_insert_rowid; a kept statement is the cheap way.
    if (!this.#lastRowidStmt) {
      const str = this.#sqlite3.str_new(this.#db, 'select last_insert_rowid()')
      try {
        this.#lastRowidStmt = (await this.#sqlite3.prepare_v2(this.#db, this.#sqlite3.str_value(str)))!.stmt
      } finally {
        this.#sqlite3.str_finish(str)
      }
    }
    const stmt = this.#lastRowidStmt
    try {
      await this.#sqlite3.step(stmt)
      return this.#sqlite3.column_int64(stmt, 0)
    } finally {
      await this.#sqlite3.reset(stmt)
    }
  }
}

/** wa-sqlite's errors carry a numeric `code`; ours are typed. */
function toEngineError(error: unknown): Error {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && !(error instanceof SqliteError)) {
    return new SqliteError(error.message, (error as unknown as { code: number }).code)
  }
  return error as Error
}
