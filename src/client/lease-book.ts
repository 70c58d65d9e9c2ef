/**
 * What this tab knows of each live lease (a Kysely connection scope): the holder (election epoch)
 * it runs on, and whether a transaction is open on it. A transaction lives on one holder's
 * connection: once that holder is gone, so is the transaction, and the lease's later statements
 * must fail rather than run in autocommit on the next holder.
 */
import { sqlShape } from '../protocol/sql-shape.js'

export class LeaseBook {
  /** The epoch each live lease first ran on (a pinned lease keeps it while its transaction lives). */
  readonly #epoch = new Map<number, number>()
  /** Inside a transaction: it must end on the holder it started on. */
  readonly #pinned = new Set<number>()
  /** Pinned because the app began a transaction with raw SQL in the scope (see noteTransaction). */
  readonly #rawPinned = new Set<number>()
  /** Pinned by the driver, and SQLite has ended the transaction itself (see noteTransaction). */
  readonly #ended = new Set<number>()
  #next = 1

  /** A new lease number: one per Kysely connection scope. */
  newLease(): number {
    return this.#next++
  }

  pin(lease: number): void {
    this.#pinned.add(lease)
  }

  unpin(lease: number): void {
    this.#pinned.delete(lease)
    this.#ended.delete(lease)
  }

  pinned(lease: number): boolean {
    return this.#pinned.has(lease)
  }

  /** True when SQLite ended the lease's transaction itself (its later statements fail). */
  ended(lease: number): boolean {
    return this.#ended.has(lease)
  }

  /** True when the lease ran on a holder other than the one of `epoch` (so its transaction is gone). */
  lostOn(lease: number, epoch: number | undefined): boolean {
    const ranOn = this.#epoch.get(lease)
    return ranOn !== undefined && ranOn !== epoch
  }

  /**
   * A statement of the lease is sent to the holder of `epoch`. A lease outside a transaction
   * simply continues on a new holder (which must then release it).
   */
  sentOn(lease: number, epoch: number): void {
    const ranOn = this.#epoch.get(lease)
    if (ranOn === undefined || (ranOn !== epoch && !this.#pinned.has(lease))) this.#epoch.set(lease, epoch)
  }

  /**
   * A statement of the lease did not get an answer from its holder. Outside a transaction the
   * lease goes on with the next holder, whatever becomes of the statement; a pinned lease keeps
   * its epoch, so that lostOn() stays true and no ROLLBACK goes to a holder that never had it.
   */
  moveOn(lease: number): void {
    if (!this.#pinned.has(lease)) this.#epoch.delete(lease)
  }

  /** The scope ended: forgets the lease, and says which holder (epoch) has it to release, if any. */
  forget(lease: number): number | undefined {
    const epoch = this.#epoch.get(lease)
    this.#epoch.delete(lease)
    this.#pinned.delete(lease)
    this.#rawPinned.delete(lease)
    this.#ended.delete(lease)
    return epoch
  }

  /**
   * After each statement the worker says whether a transaction is open on the connection. One the
   * app began with raw SQL (`BEGIN`, `SAVEPOINT`) in a `db.connection()` scope pins the lease as
   * `db.transaction()` does: after a hand-off its statements fail with ActiveTabLostError rather
   * than run, in autocommit, on the next holder without the statements before them.
   */
  noteTransaction(lease: number, open: boolean, failed: boolean, commit: boolean): void {
    if (open) {
      if (!this.#pinned.has(lease)) {
        this.#pinned.add(lease)
        this.#rawPinned.add(lease)
      }
    } else if (this.#rawPinned.size > 0 && this.#rawPinned.has(lease)) {
      // The app's own COMMIT or ROLLBACK ended what it began.
      if (!failed) {
        this.#rawPinned.delete(lease)
        this.#pinned.delete(lease)
      }
    } else if (this.#pinned.size > 0 && this.#pinned.has(lease) && !commit) {
      // The driver's transaction (db.transaction(), startTransaction()) is over, though neither
      // its COMMIT nor its ROLLBACK ran: SQLite rolled it back after a failed statement.
      this.#ended.add(lease)
    }
  }

  /**
   * Whether a statement of an open transaction, lost with its holder, was surely rolled back with
   * it: not when it could have ended the transaction itself (raw SQL that commits, several
   * statements, or a RELEASE of the savepoint that began a transaction the app opened).
   */
  diesWithTransaction(lease: number, sql: string, raw: boolean, commit: boolean): boolean {
    if (commit) return false
    if (!raw) return true
    const { keyword, single } = sqlShape(sql)
    if (!single || keyword === 'commit' || keyword === 'end') return false
    return !(keyword === 'release' && this.#rawPinned.has(lease))
  }
}
