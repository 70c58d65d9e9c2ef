/**
 * Which tables a statement reads and writes, learned from SQLite's authorizer while the statement
 * is prepared (the authorizer is called for every table the compiled program touches, including
 * through views, triggers and foreign-key actions). Kept with the cached statement, so it costs
 * nothing per execution; but a schema change (a new trigger, say) makes SQLite compile a cached
 * statement again inside `step()`, so a run records too, and what it records replaces the kept
 * access. Used for change notifications and for `watch`.
 */
import { Action } from './authorizer-codes.js'

/** The tables a statement touches. */
export interface TableAccess {
  readonly reads: ReadonlySet<string>
  readonly writes: ReadonlySet<string>
  /** It is a ROLLBACK (of the whole transaction, not to a savepoint): what it wrote is undone. */
  readonly rollback?: boolean
  /** It changes the app's schema (creates, drops or alters a table, view, index or trigger). */
  readonly schema?: boolean
  /**
   * It is an INSERT (not one a trigger makes): `'upsert'` when it may also update instead (an
   * `ON CONFLICT ... DO UPDATE`), which leaves SQLite's last inserted rowid as it was.
   */
  readonly inserts?: 'insert' | 'upsert'
  /**
   * It controls the connection rather than the data: BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE,
   * ATTACH, DETACH, or a PRAGMA that sets something. Such a statement cannot be recorded in the
   * operation ledger's transaction (see op-ledger.ts).
   */
  readonly control?: boolean
}

const { DELETE, INSERT, PRAGMA, READ, TRANSACTION, UPDATE, ATTACH, DETACH, ALTER_TABLE, SAVEPOINT } = Action
/**
 * PRAGMAs that only read, though given an argument (a table's name, say). Any other PRAGMA with an
 * argument sets something; one without an argument reads its setting.
 */
const READING_PRAGMAS = new Set([
  'table_info',
  'table_xinfo',
  'table_list',
  'index_info',
  'index_xinfo',
  'index_list',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
  'function_list',
  'module_list',
  'pragma_list',
  'collation_list',
  'database_list',
  'compile_options',
])
/** CREATE_INDEX (1) to CREATE_VIEW (8), DROP_INDEX (10) to DROP_VIEW (17), ALTER_TABLE, CREATE/DROP_VTABLE. */
const isSchemaAction = (action: number) =>
  (action >= 1 && action <= 8) || (action >= 10 && action <= 17) || action === ALTER_TABLE || action === 29 || action === 30
/** For an index, trigger or ALTER TABLE the table is the second argument; else the object's own name. */
const tableArgSecond = (action: number) =>
  action === 1 ||
  action === 3 ||
  action === 5 ||
  action === 7 ||
  action === 10 ||
  action === 12 ||
  action === 14 ||
  action === 16 ||
  action === ALTER_TABLE

const EMPTY: ReadonlySet<string> = Object.freeze(new Set<string>())
export const NO_ACCESS: TableAccess = Object.freeze({ reads: EMPTY, writes: EMPTY })

export class TableAccessCollector {
  readonly #ignored: (table: string) => boolean
  #collecting = false
  #called = false
  #rollback = false
  #schema = false
  #inserts = false
  #updates = false
  #control = false
  #reads: Set<string> | undefined
  #writes: Set<string> | undefined

  /** `ignored` names tables never reported (SQLite's own, and this library's). */
  constructor(ignored: (table: string) => boolean) {
    this.#ignored = ignored
  }

  /** The authorizer callback: records, and always allows. */
  readonly authorize = (
    _userData: unknown,
    action: number,
    arg1: string | null,
    arg2: string | null,
    database?: string | null,
    /** The trigger or view the action comes from; null for the statement's own. */
    source?: string | null,
  ): number => {
    // VACUUM compiles statements of its own as it runs, into a copy named vacuum_db: not the app's.
    if (!this.#collecting || database === 'vacuum_db') return 0
    this.#called = true
    let table: string | null = null
    let write = true
    switch (action) {
      case READ:
        table = arg1
        write = false
        break
      case INSERT:
        if (!source && arg1 && !this.#ignored(arg1)) this.#inserts = true
        table = arg1
        break
      case UPDATE:
        if (!source && arg1 && !this.#ignored(arg1)) this.#updates = true
        table = arg1
        break
      case DELETE:
        table = arg1
        break
      // CREATE, DROP and ALTER are not writes of a table here: they change the schema, which is
      // told as such (`schema`), once SQLite confirms it changed (IF NOT EXISTS may do nothing).
      case TRANSACTION:
        // SQLite names the statement whatever its text looks like (comments, `end`, ...).
        if (arg1 === 'ROLLBACK') this.#rollback = true
        this.#control = true
        break
      case SAVEPOINT:
      case ATTACH:
      case DETACH:
        this.#control = true
        break
      case PRAGMA:
        if (arg2 !== null && !READING_PRAGMAS.has((arg1 ?? '').toLowerCase())) this.#control = true
        break
    }
    if (isSchemaAction(action)) {
      const object = tableArgSecond(action) ? arg2 : arg1
      if (object && !this.#ignored(object)) this.#schema = true
    }
    if (table && !this.#ignored(table)) {
      if (write) (this.#writes ??= new Set()).add(table)
      else (this.#reads ??= new Set()).add(table)
    }
    return 0
  }

  /** Starts recording: a statement is about to be prepared, or run (it may be prepared again). */
  begin(): void {
    this.#collecting = true
    this.#called = false
    this.#rollback = false
    this.#schema = false
    this.#inserts = false
    this.#updates = false
    this.#control = false
    this.#reads = undefined
    this.#writes = undefined
  }

  /** What was recorded since begin(). */
  end(): TableAccess {
    this.#collecting = false
    const access: TableAccess = { reads: this.#reads ?? EMPTY, writes: this.#writes ?? EMPTY }
    if (!this.#rollback && !this.#schema && !this.#inserts && !this.#control) return access
    return {
      ...access,
      ...(this.#control ? { control: true } : {}),
      ...(this.#rollback ? { rollback: true } : {}),
      ...(this.#schema ? { schema: true } : {}),
      ...(this.#inserts ? { inserts: this.#updates ? 'upsert' : 'insert' } : {}),
    }
  }

  /**
   * Stops recording a run: what SQLite compiled again during it (the schema changed since the
   * statement was prepared, and `step()` prepared it anew), or undefined if it did not.
   */
  endRun(): TableAccess | undefined {
    if (this.#called) return this.end()
    this.#collecting = false // the usual case, per statement: nothing allocated
    return undefined
  }
}

/** What the operation ledger can do with a statement (see SqliteEngine.recordability). */
export type Recordability = 'read' | 'write' | 'unrecordable'

/** A prepared single statement's recordability, from what SQLite's authorizer saw of it. */
export function recordabilityOf(access: TableAccess): Recordability {
  if (access.control) return 'unrecordable'
  return access.writes.size > 0 || access.schema ? 'write' : 'read'
}

/** The union of several statements' access (a script of several statements). */
export function mergeAccess(a: TableAccess, b: TableAccess): TableAccess {
  const merged = { reads: new Set([...a.reads, ...b.reads]), writes: new Set([...a.writes, ...b.writes]) }
  return {
    ...merged,
    ...(a.schema || b.schema ? { schema: true } : {}),
    ...(a.control || b.control ? { control: true } : {}),
  }
}
