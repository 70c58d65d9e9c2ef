/**
 * Which tables a statement reads and writes, learned from SQLite's authorizer while the statement
 * is prepared (the authorizer is called for every table the compiled program touches, including
 * through views, triggers and foreign-key actions). Kept with the cached statement, so it costs
 * nothing per execution. Used for change notifications and for `watch`.
 */

/** The tables a statement touches. */
export interface TableAccess {
  readonly reads: ReadonlySet<string>
  readonly writes: ReadonlySet<string>
}

// Authorizer action codes (sqlite3.h).
const CREATE_INDEX = 1
const CREATE_TABLE = 2
const DELETE = 9
const DROP_INDEX = 10
const DROP_TABLE = 11
const INSERT = 18
const READ = 20
const UPDATE = 23
const ALTER_TABLE = 26

export const NO_ACCESS: TableAccess = Object.freeze({ reads: new Set<string>(), writes: new Set<string>() })

export class TableAccessCollector {
  readonly #ignored: (table: string) => boolean
  #reads: Set<string> | undefined
  #writes: Set<string> | undefined

  /** `ignored` names tables never reported (SQLite's own, and this library's). */
  constructor(ignored: (table: string) => boolean) {
    this.#ignored = ignored
  }

  /** The authorizer callback: records, and always allows. */
  readonly authorize = (_userData: unknown, action: number, arg1: string | null, arg2: string | null): number => {
    if (!this.#reads || !this.#writes) return 0
    let table: string | null = null
    let write = true
    switch (action) {
      case READ:
        table = arg1
        write = false
        break
      case INSERT:
      case UPDATE:
      case DELETE:
      case CREATE_TABLE:
      case DROP_TABLE:
        table = arg1
        break
      case CREATE_INDEX:
      case DROP_INDEX:
      case ALTER_TABLE:
        table = arg2
        break
    }
    if (table && !this.#ignored(table)) (write ? this.#writes : this.#reads).add(table)
    return 0
  }

  begin(): void {
    this.#reads = new Set()
    this.#writes = new Set()
  }

  end(): TableAccess {
    const access = { reads: this.#reads ?? new Set<string>(), writes: this.#writes ?? new Set<string>() }
    this.#reads = undefined
    this.#writes = undefined
    return access
  }
}

/** The union of several statements' access (a script of several statements). */
export function mergeAccess(a: TableAccess, b: TableAccess): TableAccess {
  return { reads: new Set([...a.reads, ...b.reads]), writes: new Set([...a.writes, ...b.writes]) }
}
