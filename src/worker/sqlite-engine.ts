/**
 * SQLite (wa-sqlite's synchronous build) on the OPFS pool of opfs-pool.ts: statements (prepared
 * once and cached), results shaped as Kysely's SQLite driver shapes them, and which tables each
 * transaction wrote.
 *
 * The pool does no locking of its own: the worker opens it only while it holds the database's role
 * lock (see active-database.ts), so exactly one engine in the origin has the files open.
 */
import * as SQLite from 'wa-sqlite'
import { SqliteError } from '../protocol/errors.js'
import {
  forgetBuilds,
  openStorage,
  preloadStorage,
  warmStorage,
  type DatabaseStorage,
  type EmscriptenModule,
  type StorageOptions,
} from './database-storage.js'
import { bindParameters } from './statement-binding.js'
import type { SqlValue, StorageKind } from '../protocol/message-fields.js'
import { LEDGER_TABLE } from '../protocol/names.js'
import { guardLedger } from './ledger-guard.js'
import {
  NO_ACCESS,
  TableAccessCollector,
  mergeAccess,
  recordabilityOf,
  type Recordability,
  type TableAccess,
} from './table-access.js'

const SQLITE_OPEN_EXRESCODE = 0x02000000
/** A schema version that could not be read: compared with anything, it differs. */
const UNKNOWN_SCHEMA = '?'
const STATEMENT_CACHE_SIZE = 64
/**
 * SQLite calls the progress handler every this many virtual machine steps: often enough that a
 * long statement heartbeats and meets its time limit within a small fraction of a second, rarely
 * enough to cost nothing measurable (a short statement takes fewer steps and is never called).
 */
const PROGRESS_STEPS = 10_000
const SQLITE_INTERRUPT = 9

/** What one statement produced. */
export interface StatementResult {
  columns?: string[]
  rows?: SqlValue[][]
  changes?: number
  lastInsertRowid?: bigint
}

interface Prepared {
  readonly stmt: number
  /** Replaced when SQLite compiles the statement again (the schema changed). */
  access: TableAccess
}

export interface OpenOptions extends StorageOptions {
  readonly filename: string
  /** The app's connection settings, run before the engine is handed out (see `connectionSetup`). */
  readonly setup?: readonly string[]
}

export class SqliteEngine {
  readonly #sqlite3: SQLiteAPI
  readonly #module: EmscriptenModule
  readonly #db: number
  readonly #storage: DatabaseStorage
  readonly #cache = new Map<string, Prepared>()
  readonly #access = new TableAccessCollector((table) => table.startsWith('sqlite_') || table === LEDGER_TABLE)
  /** The tables the last statement prepared touched. */
  lastAccess: TableAccess = NO_ACCESS
  /** Tables written by the open transaction, and by transactions committed since the last take. */
  #uncommitted = new Set<string>()
  #committed = new Set<string>()
  /** A transaction that changed the schema committed since the last take. */
  #committedSchema = false
  /** The schema versions before the open transaction's first statement that may change it. */
  #schemaBefore: string | undefined
  /** The engine's own kept statements (see ownQuery). */
  readonly #own = new Map<string, number>()
  #closed = false
  /** Called from inside SQLite while a statement runs, with the time (see the progress handler). */
  onProgress: ((now: number) => void) | undefined
  /** The time limit of the running request (see `limited`), and when it was first seen running. */
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

  /** Starts fetching and compiling the wasm (e.g. while waiting for the role lock). */
  static preload(options: Pick<OpenOptions, 'storage' | 'wasmUrl' | 'asyncWasmUrl'>): void {
    preloadStorage(options.storage, options.wasmUrl, options.asyncWasmUrl)
  }

  /** Loads the wasm and runs SQLite once on a throwaway database (a warm standby). */
  static warm(options: Pick<OpenOptions, 'storage' | 'wasmUrl' | 'asyncWasmUrl'>): Promise<void> {
    return warmStorage(options.storage, options.wasmUrl, options.asyncWasmUrl)
  }

  /** Lets the loaded wasm go (no longer a standby); an open engine keeps its own. */
  static forget(): void {
    forgetBuilds()
  }

  /** Opens (creating if needed) the database; the caller must hold the role lock. */
  static async open(options: OpenOptions): Promise<SqliteEngine> {
    const storage = await openStorage(options)
    const { sqlite3 } = storage
    let db = 0
    try {
      db = await sqlite3.open_v2(
        options.filename,
        SQLite.SQLITE_OPEN_CREATE | SQLite.SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE,
        storage.vfsName,
      )
      const engine = new SqliteEngine(storage, db)
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
      const collect = engine.#access.authorize
      sqlite3.progress_handler(db, PROGRESS_STEPS, () => engine.#progress(), null)
      sqlite3.set_authorizer(
        db,
        (
          data: unknown,
          action: number,
          arg1: string | null,
          arg2: string | null,
          database: string | null,
          source: string | null,
        ) => guardLedger(action, arg1, arg2, source) || collect(data, action, arg1, arg2, database, source),
        null,
      )
      // Reading the schema fails here, not on the app's first query, if the file is not a database.
      await engine.exec('select count(*) from sqlite_master', [])
      await engine.#runSetup(options.setup ?? [])
      return engine
    } catch (error) {
      if (db) await sqlite3.close(db).catch(() => {})
      await storage.close().catch(() => {})
      throw toEngineError(error)
    }
  }

  /** Runs the app's `connectionSetup`; an error names the statement and keeps SQLite's code. */
  async #runSetup(setup: readonly string[]): Promise<void> {
    for (const [i, sql] of setup.entries()) {
      try {
        await this.exec(sql, [])
        if (this.inTransaction) throw new SqliteError('it left a transaction open', 1)
      } catch (error) {
        const code = error instanceof SqliteError ? error.resultCode : 1
        throw new SqliteError(`connectionSetup[${i}] (${sql}) failed: ${(error as Error).message}`, code)
      }
    }
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
      if (!cached) return await this.#prepareAndRun(sql, params, single ? 'single' : 'run')
      this.#cache.delete(sql)
      this.#cache.set(sql, cached)
      this.lastAccess = cached.access
      return await this.#runTracked(cached.stmt, params, cached)
    } catch (error) {
      throw this.#interrupted ? this.#timeLimitError(error) : toEngineError(error)
    }
  }

  #timeLimitError(cause: unknown): Error {
    const error = toEngineError(cause)
    if (!(error instanceof SqliteError) || error.primaryResultCode !== SQLITE_INTERRUPT) return error
    return new SqliteError(
      `The statement ran longer than its time limit (${this.#limitMs} ms: statementTimeoutMs, or its StatementTimeoutPlugin) ` +
        'and was interrupted; nothing of it stayed ' +
        '(inside a transaction SQLite may have rolled the whole transaction back)',
      error.resultCode,
    )
  }

  /**
   * The tables written by transactions that committed since the last call (never those of a
   * transaction rolled back): what other tabs should hear about.
   */
  get hasCommittedWrites(): boolean {
    return this.#committed.size > 0 || this.#committedSchema
  }

  /** The tables written, and whether the schema changed (then anything may read differently). */
  takeCommittedWrites(): { tables: ReadonlySet<string>; schema: boolean } {
    const taken = { tables: this.#committed, schema: this.#committedSchema }
    this.#committed = new Set()
    this.#committedSchema = false
    return taken
  }

  /**
   * After each statement (each of a script's too): what it wrote joins the open transaction's
   * writes, and when the transaction (explicit or the statement's own) has ended, they are
   * committed, unless the statement failed (SQLite may roll back on an error) or was a ROLLBACK.
   * True when a committed transaction had statements that may have changed the schema: the
   * caller then asks SQLite whether they did (confirmSchemaChange).
   */
  #track(access: TableAccess, ok: boolean): boolean {
    this.#open = this.#sqlite3.get_autocommit(this.#db) === 0
    if (ok) for (const table of access.writes) this.#uncommitted.add(table)
    if (this.#open) return false
    const committed = ok && !access.rollback
    if (committed) for (const table of this.#uncommitted) this.#committed.add(table)
    this.#uncommitted.clear()
    if (committed && this.#schemaBefore !== undefined) return true
    this.#schemaBefore = undefined
    return false
  }

  /**
   * Before a statement that may change the schema (the authorizer saw CREATE, DROP or ALTER of
   * the app's objects; `IF NOT EXISTS` of an existing one looks the same), the first of its
   * transaction: SQLite's schema versions then, to compare with at commit.
   */
  async #noteSchemaBefore(): Promise<void> {
    if (this.#schemaBefore !== undefined) return
    this.#schemaBefore = await this.#schemaVersionNow().catch(() => UNKNOWN_SCHEMA)
  }

  /**
   * A transaction that may have changed the schema committed: it did if SQLite's schema versions
   * moved since before it (VACUUM and this library's own tables move them too, and are not asked
   * about). In doubt (the version could not be read), it did.
   */
  async #confirmSchemaChange(): Promise<void> {
    const before = this.#schemaBefore
    this.#schemaBefore = undefined
    const now = await this.#schemaVersionNow().catch(() => UNKNOWN_SCHEMA)
    if (now !== before || now === UNKNOWN_SCHEMA) this.#committedSchema = true
  }

  /** Runs a prepared statement and tracks it; `prepared.access` is renewed if SQLite compiled it again. */
  async #runTracked(stmt: number, params: readonly SqlValue[], prepared: { access: TableAccess }): Promise<StatementResult> {
    if (prepared.access.schema) await this.#noteSchemaBefore()
    let result: StatementResult
    try {
      result = await this.#run(stmt, params, prepared)
    } catch (error) {
      this.#track(prepared.access, false)
      throw error
    }
    if (this.#track(prepared.access, true)) await this.#confirmSchemaChange()
    return result
  }

  /** Rolls back an open transaction (a revoked lease's, or a dead tab's). */
  async rollback(): Promise<void> {
    if (this.inTransaction) await this.exec('rollback', [])
    this.#uncommitted.clear()
    this.#schemaBefore = undefined
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
    for (const stmt of this.#own.values()) await this.#sqlite3.finalize(stmt)
    this.#own.clear()
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
    const sqlite3 = this.#sqlite3
    const str = sqlite3.str_new(this.#db, sql)
    try {
      // Only the first statement is prepared: a later one of a script may depend on it (and
      // fail to compile before it has run).
      this.#access.begin()
      let prepared
      try {
        prepared = await sqlite3.prepare_v2(this.#db, sqlite3.str_value(str))
      } finally {
        this.lastAccess = this.#access.end()
      }
      if (!prepared) return 'read' // nothing but comments
      if (this.#module.UTF8ToString(prepared.sql).trim() !== '') {
        // More text: a second statement, or only comments and semicolons (which prepare to none).
        // The rest is prepared outside the authorizer's recording: it is not run.
        const next = await sqlite3.prepare_v2(this.#db, prepared.sql).catch(() => 'not sql' as const)
        if (next && next !== 'not sql') await sqlite3.finalize(next.stmt)
        if (next !== null) {
          await sqlite3.finalize(prepared.stmt)
          return 'unrecordable'
        }
      }
      const kept: Prepared = { stmt: prepared.stmt, access: this.lastAccess }
      this.#remember(sql, kept)
      return recordabilityOf(kept.access)
    } catch (error) {
      throw toEngineError(error)
    } finally {
      sqlite3.str_finish(str)
    }
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
      await this.#prepareAndRun(sql, [], 'describe')
      return this.lastAccess
    } catch (error) {
      throw toEngineError(error)
    }
  }

  async #prepareAndRun(sql: string, params: readonly SqlValue[], mode: 'run' | 'single' | 'describe'): Promise<StatementResult> {
    const run = mode !== 'describe'
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
        let statementAccess = NO_ACCESS
        try {
          prepared = await sqlite3.prepare_v2(this.#db, next)
        } finally {
          statementAccess = this.#access.end()
          access = first ? statementAccess : mergeAccess(access, statementAccess)
          this.lastAccess = access
        }
        if (!prepared) break
        next = prepared.sql
        const rest = this.#module.UTF8ToString(next).trim()
        if (mode === 'single' && rest !== '') {
          await sqlite3.finalize(prepared.stmt)
          throw new SqliteError(`Refused to run text that holds more than one statement: ${sql}`, 1)
        }
        if (first && rest === '') {
          // A single statement: keep it prepared for the next time the same SQL comes.
          const kept: Prepared = { stmt: prepared.stmt, access: statementAccess }
          this.#remember(sql, kept)
          return run ? await this.#runTracked(prepared.stmt, params, kept) : {}
        }
        try {
          // Each statement of a script is tracked on its own: one may commit before a later one fails.
          if (run) result = await this.#runTracked(prepared.stmt, first ? params : [], { access: statementAccess })
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

  async #run(stmt: number, params: readonly SqlValue[], prepared: { access: TableAccess }): Promise<StatementResult> {
    const sqlite3 = this.#sqlite3
    try {
      bindParameters(this.#sqlite3, this.#module, stmt, params)
      const columnCount = sqlite3.column_count(stmt)
      // An upsert may update rather than insert, leaving the last rowid as it was (perhaps another
      // tab's insert's): only a rowid that moved is this statement's.
      const rowidBefore = prepared.access.inserts === 'upsert' ? await this.#lastInsertRowid() : undefined
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
      const rowid = await this.#lastInsertRowid()
      return rowid === rowidBefore ? { changes } : { changes, lastInsertRowid: rowid }
    } finally {
      await sqlite3.reset(stmt).catch(() => {})
    }
  }

  /** SQLite's schema versions now: main's and temp's (temp objects are every tab's too, on one connection). */
  async #schemaVersionNow(): Promise<string> {
    const version = (stmt: number) => this.#sqlite3.column_int(stmt, 0)
    return `${await this.#ownQuery('pragma main.schema_version', version)}/${await this.#ownQuery('pragma temp.schema_version', version)}`
  }

  /** wa-sqlite 1.0 does not export sqlite3_last_insert_rowid; a kept statement is the cheap way. */
  #lastInsertRowid(): Promise<bigint> {
    return this.#ownQuery('select last_insert_rowid()', (stmt) => this.#sqlite3.column_int64(stmt, 0))
  }

  /**
   * One row of the engine's own one-value questions, through a statement kept for each. Prepared
   * outside any recording (they touch no table of the app) and never tracked: they change nothing.
   */
  async #ownQuery<T>(sql: string, read: (stmt: number) => T): Promise<T> {
    let stmt = this.#own.get(sql)
    if (stmt === undefined) {
      const str = this.#sqlite3.str_new(this.#db, sql)
      try {
        stmt = (await this.#sqlite3.prepare_v2(this.#db, this.#sqlite3.str_value(str)))!.stmt
      } finally {
        this.#sqlite3.str_finish(str)
      }
      this.#own.set(sql, stmt)
    }
    try {
      await this.#sqlite3.step(stmt)
      return read(stmt)
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
