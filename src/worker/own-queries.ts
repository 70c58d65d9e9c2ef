/**
 * The engine's own one-value questions to SQLite: the last inserted rowid, and the schema versions.
 * wa-sqlite 1.0 does not export sqlite3_last_insert_rowid; a statement kept for each question is
 * the cheap way.
 *
 * They are prepared outside any recording of the authorizer (they touch no table of the app) and
 * never tracked: they change nothing.
 */
export class OwnQueries {
  readonly #sqlite3: SQLiteAPI
  readonly #db: number
  /** A kept statement for each question, by its SQL. */
  readonly #kept = new Map<string, number>()

  constructor(sqlite3: SQLiteAPI, db: number) {
    this.#sqlite3 = sqlite3
    this.#db = db
  }

  /** The connection's last inserted rowid (every tab's: the caller tells whose it is). */
  lastInsertRowid(): Promise<bigint> {
    return this.#query('select last_insert_rowid()', (stmt) => this.#sqlite3.column_int64(stmt, 0))
  }

  /** SQLite's schema versions now: main's and temp's (temp objects are every tab's too, on one connection). */
  async schemaVersion(): Promise<string> {
    const version = (stmt: number) => this.#sqlite3.column_int(stmt, 0)
    return `${await this.#query('pragma main.schema_version', version)}/${await this.#query('pragma temp.schema_version', version)}`
  }

  /** Lets the kept statements go (the connection is closing). */
  async finalize(): Promise<void> {
    for (const stmt of this.#kept.values()) await this.#sqlite3.finalize(stmt)
    this.#kept.clear()
  }

  /** One row of the question `sql`, through its kept statement. */
  async #query<T>(sql: string, read: (stmt: number) => T): Promise<T> {
    let stmt = this.#kept.get(sql)
    if (stmt === undefined) {
      const str = this.#sqlite3.str_new(this.#db, sql)
      try {
        stmt = (await this.#sqlite3.prepare_v2(this.#db, this.#sqlite3.str_value(str)))!.stmt
      } finally {
        this.#sqlite3.str_finish(str)
      }
      this.#kept.set(sql, stmt)
    }
    try {
      await this.#sqlite3.step(stmt)
      return read(stmt)
    } finally {
      await this.#sqlite3.reset(stmt)
    }
  }
}
