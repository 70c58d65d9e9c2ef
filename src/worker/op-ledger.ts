/**
 * Exactly-once writes across a hand-off.
 *
 * A write sent outside a transaction carries an operation id. The worker applies it and records
 * the id (with its result) in the same SQLite transaction, so the record exists if and only if
 * the write does. When the active tab dies with the write in flight, the caller sends it again to
 * the next active tab marked as a retry; that tab looks the id up and either returns the recorded
 * result (it was applied) or applies it now (it was not). The old holder cannot apply it later:
 * it lost the OPFS files and refuses work once its role has lapsed (see active-database.ts).
 *
 * The table is WITHOUT ROWID so recording an operation leaves `last_insert_rowid()` alone, and it
 * is pruned of entries older than any retry can be, through an index by time: a prune reads only
 * what it deletes, however large the table grew.
 */
import type { SqlValue } from '../protocol/message-fields.js'
import { ActiveTabLostError, WriteOutcomeUnknownError } from '../protocol/errors.js'
import { LEDGER_INDEX, LEDGER_TABLE } from '../protocol/names.js'
import type { SqliteEngine, StatementResult } from './sqlite-engine.js'

const KEEP_MS = 10 * 60_000
const PRUNE_EVERY = 500

const CREATE = `create table if not exists ${LEDGER_TABLE} (
  op text primary key, at integer not null, changes integer, rowid integer, columns text, rows text
) without rowid`
const INDEX = `create index if not exists ${LEDGER_INDEX} on ${LEDGER_TABLE} (at)`

export class OpLedger {
  readonly #engine: SqliteEngine
  #ready = false
  #sincePrune = 0
  #prunedAt = Date.now()

  constructor(engine: SqliteEngine) {
    this.#engine = engine
  }

  /**
   * Commits the open transaction with `op` recorded inside it. On a retry (the answer to the first
   * attempt was lost with the old active tab) there is no transaction here: the record says
   * whether it committed there.
   */
  async commit(op: string, retry: boolean): Promise<StatementResult> {
    const engine = this.#engine
    await this.#ensureTable()
    if (retry) {
      const prior = await engine.exec(`select 1 from ${LEDGER_TABLE} where op = ?`, [op])
      if (prior.rows!.length > 0) return { changes: 0, lastInsertRowid: 0n }
      throw new ActiveTabLostError(
        'The active tab went away before this transaction committed; it was rolled back. Run it again.',
      )
    }
    if (engine.inTransaction) {
      await engine.exec(`insert into ${LEDGER_TABLE} (op, at) values (?, ?)`, [op, Date.now()])
    }
    return engine.exec('commit', [])
  }

  /**
   * At activation, outside any transaction: creates the table and prunes what no retry can need
   * any more (a database that saw few writes would otherwise keep them, RETURNING rows included).
   */
  async prepare(): Promise<void> {
    await this.#ensureTable()
    await this.#prune()
  }

  async #ensureTable(): Promise<void> {
    if (this.#ready) return
    await this.#engine.exec(CREATE, [])
    await this.#engine.exec(INDEX, [])
    // Made inside a transaction, the table goes again if that transaction rolls back.
    this.#ready = !this.#engine.inTransaction
  }

  async #prune(): Promise<void> {
    this.#sincePrune = 0
    this.#prunedAt = Date.now()
    await this.#engine.exec(`delete from ${LEDGER_TABLE} where at < ?`, [this.#prunedAt - KEEP_MS])
  }

  /**
   * Runs a statement sent with an operation id (any write outside a transaction, built or raw):
   * once, if SQLite says it can be recorded; a read simply runs (again); anything else runs
   * unrecorded, and on a retry fails as of unknown outcome rather than run a second time.
   */
  async run(op: string, sql: string, params: readonly SqlValue[], retry: boolean): Promise<StatementResult> {
    if (retry) {
      // Looked up before the statement is prepared: once applied, a CREATE TABLE (say) no longer
      // even compiles ("table w already exists"), though its recorded result is the answer.
      await this.#ensureTable()
      const prior = await this.#engine.exec(`select changes, rowid, columns, rows from ${LEDGER_TABLE} where op = ?`, [op])
      if (prior.rows!.length > 0) return decode(prior.rows![0]!)
    }
    switch (await this.#engine.recordability(sql)) {
      case 'write':
        return this.#apply(op, sql, params)
      case 'read':
        return this.#engine.exec(sql, params)
      default:
        if (!retry) return this.#engine.exec(sql, params)
        throw new WriteOutcomeUnknownError(
          'The active tab went away while this statement was in flight, and it cannot be recorded as applied ' +
            '(several statements, transaction control, ATTACH/DETACH, or a PRAGMA that sets something): it was not ' +
            'run again here, and may or may not have been applied there',
        )
    }
  }

  /** Applies the write and records `op` in the same transaction (run() looked up a retry's record). */
  async #apply(op: string, sql: string, params: readonly SqlValue[]): Promise<StatementResult> {
    const engine = this.#engine
    await this.#ensureTable()
    // An app's own `begin` in a connection scope: the record joins that transaction instead.
    const own = !engine.inTransaction
    if (own) await engine.exec('begin immediate', [])
    try {
      const result = await engine.exec(sql, params)
      await engine.exec(`insert into ${LEDGER_TABLE} (op, at, changes, rowid, columns, rows) values (?, ?, ?, ?, ?, ?)`, [
        op,
        Date.now(),
        result.changes ?? null,
        result.lastInsertRowid ?? null,
        result.columns ? JSON.stringify(result.columns) : null,
        result.rows ? encodeRows(result.rows) : null,
      ])
      if (own) await engine.exec('commit', [])
      if (own && (++this.#sincePrune >= PRUNE_EVERY || Date.now() - this.#prunedAt > KEEP_MS)) {
        // The write is committed: a prune that fails (say, a full disk) must not report it failed.
        await this.#prune().catch(() => {})
      }
      return result
    } catch (error) {
      if (own) await engine.rollback().catch(() => {})
      throw error
    }
  }
}

function decode(row: SqlValue[]): StatementResult {
  const [changes, rowid, columns, rows] = row
  if (typeof columns === 'string') {
    return { columns: JSON.parse(columns) as string[], rows: decodeRows(rows as string) }
  }
  return { changes: Number(changes ?? 0), lastInsertRowid: rowid === null ? undefined : BigInt(rowid as number | bigint) }
}

// RETURNING rows may hold bigints and blobs, which JSON cannot: tag them.
function encodeRows(rows: readonly SqlValue[][]): string {
  return JSON.stringify(rows, (_key, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() }
    if (value instanceof Uint8Array) return { $bytes: Array.from(value) }
    return value
  })
}

function decodeRows(text: string): SqlValue[][] {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$bigint' in value) return BigInt((value as { $bigint: string }).$bigint)
    if (value && typeof value === 'object' && '$bytes' in value) return new Uint8Array((value as { $bytes: number[] }).$bytes)
    return value
  }) as SqlValue[][]
}
