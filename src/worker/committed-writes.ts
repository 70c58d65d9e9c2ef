/**
 * Which tables the transactions committed on the connection wrote, and whether one of them changed
 * the schema: what other tabs should hear about. Never what a transaction rolled back wrote.
 *
 * The engine tells it of every statement it ran (each of a script's too), and whether a transaction
 * is still open after it. A statement the authorizer saw CREATE, DROP or ALTER an object of the
 * app may change the schema, but need not (`IF NOT EXISTS` of an existing one looks the same): the
 * transaction changed it if SQLite's schema versions moved from before its first such statement to
 * after its commit.
 */
import type { TableAccess } from './table-access.js'

/** A schema version that could not be read: compared with anything, it differs. */
const UNKNOWN_SCHEMA = '?'

export class CommittedWrites {
  /** SQLite's schema versions now. */
  readonly #schemaVersion: () => Promise<string>
  /** Tables written by the open transaction, and by transactions committed since the last take. */
  #uncommitted = new Set<string>()
  #committed = new Set<string>()
  /** A transaction that changed the schema committed since the last take. */
  #committedSchema = false
  /** The schema versions before the open transaction's first statement that may change it. */
  #schemaBefore: string | undefined

  constructor(schemaVersion: () => Promise<string>) {
    this.#schemaVersion = schemaVersion
  }

  /** Some transaction wrote a table, or changed the schema, and committed since the last take. */
  get any(): boolean {
    return this.#committed.size > 0 || this.#committedSchema
  }

  /** The tables written, and whether the schema changed (then anything may read differently). */
  take(): { tables: ReadonlySet<string>; schema: boolean } {
    const taken = { tables: this.#committed, schema: this.#committedSchema }
    this.#committed = new Set()
    this.#committedSchema = false
    return taken
  }

  /**
   * After each statement: what it wrote joins the open transaction's writes, and when the
   * transaction (explicit or the statement's own) has ended (`open` is false), they are committed,
   * unless the statement failed (SQLite may roll back on an error) or was a ROLLBACK. True when a
   * committed transaction had statements that may have changed the schema: the caller then asks
   * SQLite whether they did (confirmSchemaChange).
   */
  track(access: TableAccess, ok: boolean, open: boolean): boolean {
    if (ok) for (const table of access.writes) this.#uncommitted.add(table)
    if (open) return false
    const committed = ok && !access.rollback
    if (committed) for (const table of this.#uncommitted) this.#committed.add(table)
    this.#uncommitted.clear()
    if (committed && this.#schemaBefore !== undefined) return true
    this.#schemaBefore = undefined
    return false
  }

  /**
   * Before a statement that may change the schema, the first of its transaction: SQLite's schema
   * versions then, to compare with at commit.
   */
  async noteSchemaBefore(): Promise<void> {
    if (this.#schemaBefore !== undefined) return
    this.#schemaBefore = await this.#schemaVersion().catch(() => UNKNOWN_SCHEMA)
  }

  /**
   * A transaction that may have changed the schema committed: it did if SQLite's schema versions
   * moved since before it (VACUUM and this library's own tables move them too, and are not asked
   * about). In doubt (the version could not be read), it did.
   */
  async confirmSchemaChange(): Promise<void> {
    const before = this.#schemaBefore
    this.#schemaBefore = undefined
    const now = await this.#schemaVersion().catch(() => UNKNOWN_SCHEMA)
    if (now !== before || now === UNKNOWN_SCHEMA) this.#committedSchema = true
  }

  /** The open transaction was rolled back: nothing it wrote is told. */
  rollBack(): void {
    this.#uncommitted.clear()
    this.#schemaBefore = undefined
  }
}
