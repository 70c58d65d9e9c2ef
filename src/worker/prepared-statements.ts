/**
 * The statements the engine keeps prepared, by their SQL text, and the preparing of text it has not
 * kept. A text of one statement is kept for the next time it comes (the least recently used of 64
 * goes), with the tables SQLite's authorizer saw it touch as it compiled (see table-access.ts). A
 * script of several statements is prepared and run one statement at a time, and none is kept: a
 * later statement may depend on an earlier one (and fail to compile before that one has run).
 *
 * The engine looks kept statements up in `kept` itself, on every statement, and runs them; it comes
 * here only for text it has not kept. What the authorizer records between `begin()` and `end()` is
 * one prepare's, so statements are prepared one at a time.
 */
import { SqliteError } from '../protocol/errors.js'
import type { SqlValue } from '../protocol/message-fields.js'
import type { EmscriptenModule } from './sqlite-builds.js'
import { toEngineError } from './engine-errors.js'
import type { StatementResult } from './sqlite-engine.js'
import {
  NO_ACCESS,
  mergeAccess,
  recordabilityOf,
  type Recordability,
  type TableAccess,
  type TableAccessCollector,
} from './table-access.js'

const STATEMENT_CACHE_SIZE = 64

/** A statement kept prepared. */
export interface Prepared {
  readonly stmt: number
  /** Replaced when SQLite compiles the statement again (the schema changed). */
  access: TableAccess
}

/** Runs a statement prepared here, and tracks it (see SqliteEngine); renews `prepared.access`. */
type RunPrepared = (stmt: number, params: readonly SqlValue[], prepared: { access: TableAccess }) => Promise<StatementResult>

export class PreparedStatements {
  /** The kept statements by their SQL, the least recently used first. */
  readonly kept = new Map<string, Prepared>()
  readonly #sqlite3: SQLiteAPI
  readonly #module: EmscriptenModule
  readonly #db: number
  readonly #access: TableAccessCollector
  /** Where the tables the last statement prepared touched are shown (the engine's `lastAccess`). */
  readonly #shown: { lastAccess: TableAccess }
  readonly #run: RunPrepared

  constructor(
    connection: { sqlite3: SQLiteAPI; module: EmscriptenModule; db: number },
    access: TableAccessCollector,
    shown: { lastAccess: TableAccess },
    run: RunPrepared,
  ) {
    this.#sqlite3 = connection.sqlite3
    this.#module = connection.module
    this.#db = connection.db
    this.#access = access
    this.#shown = shown
    this.#run = run
  }

  /**
   * The recordability of `sql`, which is not kept (see SqliteEngine.recordability): its first
   * statement is prepared, and kept if it is the only one. A statement that does not compile
   * throws its error.
   */
  async recordability(sql: string): Promise<Recordability> {
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
        this.#shown.lastAccess = this.#access.end()
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
      const kept: Prepared = { stmt: prepared.stmt, access: this.#shown.lastAccess }
      this.#remember(sql, kept)
      return recordabilityOf(kept.access)
    } catch (error) {
      throw toEngineError(error)
    } finally {
      sqlite3.str_finish(str)
    }
  }

  /**
   * Prepares `sql`, which is not kept, statement by statement, and runs each (`run`, returning the
   * last's result); `single` refuses text of more than one statement before anything runs;
   * `describe` runs nothing, and leaves what the text touches in the engine's `lastAccess`.
   */
  async prepareAndRun(sql: string, params: readonly SqlValue[], mode: 'run' | 'single' | 'describe'): Promise<StatementResult> {
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
          this.#shown.lastAccess = access
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
          return run ? await this.#run(prepared.stmt, params, kept) : {}
        }
        try {
          // Each statement of a script is tracked on its own: one may commit before a later one fails.
          if (run) result = await this.#run(prepared.stmt, first ? params : [], { access: statementAccess })
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
    this.kept.set(sql, prepared)
    if (this.kept.size > STATEMENT_CACHE_SIZE) {
      const [oldSql, old] = this.kept.entries().next().value as [string, Prepared]
      this.kept.delete(oldSql)
      void this.#sqlite3.finalize(old.stmt)
    }
  }
}
