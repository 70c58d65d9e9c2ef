/**
 * SQLite (wa-sqlite's synchronous build) on the OPFS pool of opfs-pool.ts: statements (kept
 * prepared by prepared-statements.ts), results shaped as Kysely's SQLite driver shapes them, each
 * request's time limit, and which tables each transaction wrote (see committed-writes.ts).
 *
 * The pool does no locking of its own: the worker opens it (engine-opening.ts) only while it holds
 * the database's role lock (see role-acquisition.ts), so exactly one engine in the origin has the
 * files open.
 */
import * as SQLite from 'wa-sqlite'
import type { DatabaseStorage } from './database-storage.js'
import type { EmscriptenModule } from './sqlite-builds.js'
import { bindParameters } from './statement-binding.js'
import type { SqlValue, StorageKind } from '../protocol/message-fields.js'
import { LEDGER_TABLE } from '../protocol/names.js'
import { CommittedWrites } from './committed-writes.js'
import { timeLimitError, toEngineError } from './engine-errors.js'
import { openEngine, type OpenOptions } from './engine-opening.js'
import { OwnQueries } from './own-queries.js'
import { PreparedStatements, type Prepared } from './prepared-statements.js'
import { NO_ACCESS, TableAccessCollector, recordabilityOf, type Recordability, type TableAccess } from './table-access.js'

/** What one statement produced. */
export interface StatementResult {
  columns?: string[]
  rows?: SqlValue[][]
  changes?: number
  lastInsertRowid?: bigint
}

export class SqliteEngine {
  readonly #sqlite3: SQLiteAPI
  readonly #module: EmscriptenModule
  readonly #db: number
  readonly #storage: DatabaseStorage
  readonly #access = new TableAccessCollector((table) => table.startsWith('sqlite_') || table === LEDGER_TABLE)
  /** The tables the last statement prepared touched. */
  lastAccess: TableAccess = NO_ACCESS
  /** Statements kept prepared by their SQL (`#cache`: looked up on every statement), and preparing the rest. */
  readonly #statements: PreparedStatements
  readonly #cache: Map<string, Prepared>
  /** The last inserted rowid and the schema versions. */
  readonly #own: OwnQueries
  /** Which tables the transactions committed since the last take wrote. */
  readonly #writes: CommittedWrites
  #closed = false
  /** Called from inside SQLite while a statement runs, with the time (see the progress handler). */
  onProgress: ((now: number) => void) | undefined
  /** The time limit of the running request (see startRequest), and when it was first seen running. */
  #limitMs = Infinity
  #limitSeq = 0
  #progressSeq = 0
  #runningSince = 0
  #interrupted = false
  #stopped = false
  /**
   * A transaction was open after the last statement. Every statement that can change it runs
   * through exec(), which asks SQLite once (`#track`); the worker asks after each statement and
   * at each release, so a wasm call each time would be paid two or three times per statement.
   */
  #open = false

  private constructor(storage: DatabaseStorage, db: number) {
    this.#module = storage.module
    this.#sqlite3 = storage.sqlite3
    this.#db = db
    this.#storage = storage
    const run = (stmt: number, params: readonly SqlValue[], prepared: { access: TableAccess }) =>
      this.#runTracked(stmt, params, prepared)
    this.#statements = new PreparedStatements({ sqlite3: storage.sqlite3, module: storage.module, db }, this.#access, this, run)
    this.#cache = this.#statements.kept
    this.#own = new OwnQueries(storage.sqlite3, db)
    this.#writes = new CommittedWrites(() => this.#own.schemaVersion())
  }

  /** Where the database lives. */
  get storage(): StorageKind {
    return this.#storage.kind
  }

  /** Whether its files are still the database's live ones (a taker may have copied them away). */
  stillLive(): Promise<boolean> {
    return this.#storage.stillLive?.() ?? Promise.resolve(true)
  }

  /** Clears copies of the files no longer live, while `serving()`. */
  pruneCopies(serving: () => boolean): void {
    this.#storage.prune?.(serving)
  }

  /** Opens (creating if needed) the database; the caller must hold the role lock. */
  static open(options: OpenOptions): Promise<SqliteEngine> {
    return openEngine(options, (storage, db) => {
      const engine = new SqliteEngine(storage, db)
      return { engine, authorize: engine.#access.authorize, progress: () => engine.#progress() }
    })
  }

  /**
   * Starts one request's time limit (its statements until `endRequest`): a statement still running
   * `limitMs` after the request's first progress call is interrupted, and fails with `SqliteError`
   * `SQLITE_INTERRUPT`. The clock starts at that first call, not before each statement: a short
   * request never reads it. Requests run one at a time (the lease queue).
   */
  startRequest(limitMs: number): void {
    this.#limitSeq++
    this.#limitMs = limitMs
  }

  /** Ends the request's time limit: the engine's own statements in between have none. */
  endRequest(): void {
    this.#limitMs = Infinity
  }

  /**
   * Ends the running statement soon (at its next progress call), and every later one: the engine
   * is about to close. Closing while a statement runs would re-enter the module under it, which
   * the Asyncify build does not survive (its VFS calls suspend it in the middle of a statement);
   * the caller waits for the statement to return first.
   */
  stop(): void {
    this.#stopped = true
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** SQLite's progress handler: a long statement stays alive, a runaway one ends. Non-zero interrupts. */
  #progress(): number {
    if (this.#stopped) return 1
    const now = performance.now()
    if (this.#progressSeq !== this.#limitSeq) {
      this.#progressSeq = this.#limitSeq
      this.#runningSince = now
    }
    this.onProgress?.(now)
    if (now - this.#runningSince <= this.#limitMs) return 0
    this.#interrupted = true
    return 1
  }

  /** Whether a transaction is open on the connection. */
  get inTransaction(): boolean {
    return !this.#closed && this.#open
  }

  /**
   * Runs one statement (or, for a script of several, each in turn, returning the last's result).
   * With `single`, text that holds more than one statement is refused before anything runs.
   */
  async exec(sql: string, params: readonly SqlValue[], { single = false } = {}): Promise<StatementResult> {
    this.#interrupted = false
    try {
      const cached = this.#cache.get(sql)
      if (!cached) return await this.#statements.prepareAndRun(sql, params, single ? 'single' : 'run')
      this.#cache.delete(sql)
      this.#cache.set(sql, cached)
      this.lastAccess = cached.access
      return await this.#runTracked(cached.stmt, params, cached)
    } catch (error) {
      throw this.#interrupted ? timeLimitError(error, this.#limitMs) : toEngineError(error)
    }
  }

  /**
   * The tables written by transactions that committed since the last call (never those of a
   * transaction rolled back): what other tabs should hear about.
   */
  get hasCommittedWrites(): boolean {
    return this.#writes.any
  }

  /** The tables written, and whether the schema changed (then anything may read differently). */
  takeCommittedWrites(): { tables: ReadonlySet<string>; schema: boolean } {
    return this.#writes.take()
  }

  /**
   * After each statement (each of a script's too): whether a transaction is still open, and what
   * the statement wrote, for CommittedWrites.track (true: ask SQLite whether the schema changed).
   */
  #track(access: TableAccess, ok: boolean): boolean {
    this.#open = this.#sqlite3.get_autocommit(this.#db) === 0
    return this.#writes.track(access, ok, this.#open)
  }

  /** Runs a prepared statement and tracks it; `prepared.access` is renewed if SQLite compiled it again. */
  async #runTracked(stmt: number, params: readonly SqlValue[], prepared: { access: TableAccess }): Promise<StatementResult> {
    if (prepared.access.schema) await this.#writes.noteSchemaBefore()
    let result: StatementResult
    try {
      result = await this.#run(stmt, params, prepared)
    } catch (error) {
      this.#track(prepared.access, false)
      throw error
    }
    if (this.#track(prepared.access, true)) await this.#writes.confirmSchemaChange()
    return result
  }

  /** Rolls back an open transaction (a revoked lease's, or a dead tab's). */
  async rollback(): Promise<void> {
    if (this.inTransaction) await this.exec('rollback', [])
    this.#writes.rollBack()
  }

  /**
   * Reads a whole file of the storage (e.g. the main database). The caller makes sure no
   * transaction is open, so the main file holds exactly the committed database.
   */
  readFile(name: string): Promise<Uint8Array> {
    return this.#storage.read(name)
  }

  /** Writes `bytes` as a whole file of the storage, replacing it, durably. */
  writeFile(name: string, bytes: Uint8Array): Promise<void> {
    return this.#storage.write(name, bytes)
  }

  deleteFile(name: string): Promise<void> {
    return this.#storage.remove(name)
  }

  /** Closes the database and every access handle, so the next holder can open them. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const { stmt } of this.#cache.values()) await this.#sqlite3.finalize(stmt)
    this.#cache.clear()
    await this.#own.finalize()
    await this.#sqlite3.close(this.#db).catch(() => {})
    await this.#storage.close()
  }

  /**
   * Whether `sql` can be made exactly-once by recording it in the operation ledger's transaction
   * (see op-ledger.ts), as SQLite's own parse says (the authorizer, when it is prepared): `read`
   * changes nothing and may simply run again; `write` is one statement that changes data or the
   * schema; `unrecordable` is anything else (several statements, transaction control, ATTACH,
   * DETACH, a PRAGMA that sets something). A statement that does not compile throws its error.
   */
  async recordability(sql: string): Promise<Recordability> {
    const cached = this.#cache.get(sql)
    if (cached) return recordabilityOf(cached.access)
    return this.#statements.recordability(sql)
  }

  /** The tables `sql` would read and write now, without running it. */
  async describe(sql: string): Promise<TableAccess> {
    try {
      // Prepared afresh: a kept statement's access is from before any schema change since.
      const cached = this.#cache.get(sql)
      if (cached) {
        this.#cache.delete(sql)
        await this.#sqlite3.finalize(cached.stmt)
      }
      await this.#statements.prepareAndRun(sql, [], 'describe')
      return this.lastAccess
    } catch (error) {
      throw toEngineError(error)
    }
  }

  async #run(stmt: number, params: readonly SqlValue[], prepared: { access: TableAccess }): Promise<StatementResult> {
    const sqlite3 = this.#sqlite3
    try {
      bindParameters(this.#sqlite3, this.#module, stmt, params)
      const columnCount = sqlite3.column_count(stmt)
      // An upsert may update rather than insert, leaving the last rowid as it was (perhaps another
      // tab's insert's): only a rowid that moved is this statement's.
      const rowidBefore = prepared.access.inserts === 'upsert' ? await this.#own.lastInsertRowid() : undefined
      let rows: SqlValue[][] | undefined
      // The authorizer records while the statement steps: if SQLite compiles it again (the schema
      // changed since it was prepared), what it touches now replaces what it touched then.
      this.#access.begin()
      try {
        if (columnCount > 0) {
          rows = []
          while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) rows.push(sqlite3.row(stmt) as SqlValue[])
        } else {
          while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) {
            // A statement without result columns has nothing to read.
          }
        }
      } finally {
        const recompiled = this.#access.endRun()
        if (recompiled) prepared.access = this.lastAccess = recompiled
      }
      if (rows) return { columns: sqlite3.column_names(stmt), rows }
      const changes = sqlite3.changes(this.#db)
      // The connection is every tab's: its last rowid is this statement's only if it inserted a row.
      if (changes === 0 || !prepared.access.inserts) return { changes }
      const rowid = await this.#own.lastInsertRowid()
      return rowid === rowidBefore ? { changes } : { changes, lastInsertRowid: rowid }
    } finally {
      await sqlite3.reset(stmt).catch(() => {})
    }
  }
}
