/**
 * Sends this tab's statements to whichever worker is active, over the line the coordinator
 * brokered, and matches the replies.
 *
 * When the route is lost (the active tab went away) the requests it carried are settled by kind:
 * - reads are sent again on the next route, transparently;
 * - a write outside a transaction, built with Kysely's builders or raw SQL, carries an operation
 *   id; when SQLite says it is one statement that can be recorded, the worker records the id
 *   atomically with the write. It is sent again marked as a retry, and the next worker applies it
 *   only if the record is absent (see worker/op-ledger.ts); one that cannot be recorded (several
 *   statements, transaction control, ...) is answered there with WriteOutcomeUnknownError;
 * - a statement of an open transaction fails with ActiveTabLostError (the transaction died with the
 *   old holder's connection and was rolled back);
 * - a transaction's COMMIT carries an operation id too, recorded inside the transaction: if its
 *   answer is lost, the next active tab says whether it committed (then the commit succeeds) or
 *   not (then ActiveTabLostError: it was rolled back, retrying is safe);
 * - raw SQL inside a transaction or `db.connection()` scope that the app began itself carries no
 *   id: if it could have ended the transaction, it fails with WriteOutcomeUnknownError.
 * A worker that refuses a statement (it is handing over) did not run it: it is simply resent.
 *
 * Every wait is bounded. A request waits for a route at most `requestTimeoutMs`. One that lost its
 * holder MAX_LOSSES times, or is older than `requestTimeoutMs` when it loses one, is not sent
 * again (it may be what brought the holders down): a read fails with a not-retryable
 * ActiveTabLostError, a write with WriteOutcomeUnknownError. A statement sent on a live line
 * whose answer does not come within `answerTimeoutMs` fails the same way.
 *
 * Each of those decisions is failoverFate (failover-policy.ts); this class applies them.
 */
import { failoverError, transactionEnded, transactionLost } from './failover-errors.js'
import { failoverFate, type FailoverEvent } from './failover-policy.js'
import { LeaseTimeoutError, deserializeError, destroyedError, type SerializedError } from '../protocol/errors.js'
import type { HandoffReason, Mutable, SqlValue } from '../protocol/message-fields.js'
import type { AdminOperation, ExecRequest, ExecResult, WorkerReply } from '../protocol/statement-messages.js'
import type { Line } from '../protocol/line.js'
import { sqlShape } from '../protocol/sql-shape.js'

interface Route {
  readonly epoch: number
  readonly activeTabId: string
  readonly port: Line
}

/** How a statement may be retried after a hand-off. */
export type StatementKind = 'read' | 'write' | 'raw' | 'commit'

/** What a statement carries besides its text. */
export interface ExecExtras {
  /** A whole-database operation instead of the text. */
  readonly admin?: AdminOperation
  /** The statement's own time limit, in place of the active worker's `statementTimeoutMs`. */
  readonly timeoutMs?: number
}

interface Request {
  readonly id: number
  readonly lease: number
  readonly sql: string
  readonly params: SqlValue[]
  readonly read: boolean
  readonly op: string | undefined
  readonly commit: boolean
  /** Raw SQL (not built by Kysely): it may do anything, end a transaction included. */
  readonly raw: boolean
  readonly describe: boolean
  readonly admin: AdminOperation | undefined
  /** Its own statement time limit (StatementTimeoutPlugin), instead of the active worker's. */
  readonly timeoutMs: number | undefined
  /** Answer sweeps after which it fails: more for a time limit above `statementTimeoutMs`. */
  readonly maxSweeps: number
  /** Sent to a holder that went away without answering: it may have been applied. */
  maybeApplied: boolean
  /** How many holders went away with it in flight. */
  losses: number
  /** Answer sweeps (see #sweep) it has been in flight for. */
  sweeps: number
  readonly resolve: (result: ExecResult) => void
  readonly reject: (error: Error) => void
  timer?: ReturnType<typeof setTimeout>
  epoch?: number
  readonly startedAt: number
}

/** Sweeps of the in-flight requests per `answerTimeoutMs`. */
const SWEEPS_PER_BOUND = 4

export class RequestRouter {
  readonly #requestTimeoutMs: number
  readonly #answerTimeoutMs: number
  readonly #statementTimeoutMs: number
  #sweepTimer: ReturnType<typeof setInterval> | undefined
  #opPrefix = ''
  #tabId = ''
  #nextOp = 1
  #route: Route | undefined
  #highestEpoch = 0
  #failure: Error | undefined
  #closed: Error | undefined
  readonly #inFlight = new Map<number, Request>()
  #waiting: Request[] = []
  #nextId = 1
  /** The epoch each live lease first ran on; a transaction cannot move to another holder. */
  readonly #leaseEpoch = new Map<number, number>()
  readonly #pinned = new Set<number>()
  /** Pinned because the app began a transaction with raw SQL in the scope (see noteTransaction). */
  readonly #rawPinned = new Set<number>()
  /** Pinned by the driver, and SQLite has ended the transaction itself (see noteTransaction). */
  readonly #ended = new Set<number>()
  /** Released leases not yet told to the worker (see release()). */
  #releases: number[] = []
  #releaseScheduled = false

  /**
   * `answerTimeoutMs`: how long a statement sent on a live line may go unanswered (queued behind
   * other tabs' leases and running included) before it fails; it includes `statementTimeoutMs`,
   * which a statement with a longer limit of its own adds the difference to.
   */
  constructor(requestTimeoutMs: number, answerTimeoutMs = Infinity, statementTimeoutMs = 0) {
    this.#requestTimeoutMs = requestTimeoutMs
    this.#answerTimeoutMs = answerTimeoutMs
    this.#statementTimeoutMs = statementTimeoutMs
  }

  /** This tab's id, which prefixes its operation ids; set before the first statement (TabClient.start()). */
  identify(tabId: string): void {
    this.#tabId = tabId
    this.#opPrefix = `${tabId}:`
  }

  get route(): Readonly<Route> | undefined {
    return this.#route
  }

  /** The highest election epoch seen. */
  get highestEpoch(): number {
    return this.#highestEpoch
  }

  /** Called with every new route (a new active tab). */
  onRoute: ((route: Readonly<Route>, reason: HandoffReason) => void) | undefined
  /** Called with the tables a committed transaction wrote (while subscribed). */
  onChanges: ((tables: readonly string[], schema: boolean) => void) | undefined
  #subscribed = false

  /** Asks the active worker (this one and every next one) to report committed writes, or stops. */
  subscribe(on: boolean): void {
    if (on === this.#subscribed) return
    this.#subscribed = on
    this.#route?.port.postMessage({ t: 'subscribe', on })
  }

  /** Called when a request settles: its latency, whether this tab was active, and its error. */
  onSettled: ((ms: number, onActive: boolean, error?: Error) => void) | undefined

  /** Statements sent and not answered yet, and those waiting for a route. */
  get depth(): { inFlight: number; waiting: number } {
    return { inFlight: this.#inFlight.size, waiting: this.#waiting.length }
  }

  /** Called when the route is lost (the active tab went away). */
  onRouteLost: ((lost: Readonly<Route> | undefined, epoch: number, reason: HandoffReason) => void) | undefined

  /** Marks a lease as inside a transaction: it must end on the holder it started on. */
  pin(lease: number): void {
    this.#pinned.add(lease)
  }

  unpin(lease: number): void {
    this.#pinned.delete(lease)
    this.#ended.delete(lease)
  }

  /** True when SQLite ended the lease's transaction itself (its later statements fail). */
  transactionEnded(lease: number): boolean {
    return this.#ended.has(lease)
  }

  /** True when the lease ran on a holder that is gone (so its transaction is gone too). */
  leaseLost(lease: number): boolean {
    const epoch = this.#leaseEpoch.get(lease)
    return epoch !== undefined && epoch !== this.#route?.epoch
  }

  exec(
    lease: number,
    sql: string,
    params: SqlValue[],
    kind: StatementKind | 'describe',
    { admin, timeoutMs }: ExecExtras = {},
  ): Promise<ExecResult> {
    if (this.#closed) return Promise.reject(this.#closed)
    const pinned = this.#pinned.has(lease)
    if (pinned && this.leaseLost(lease)) return Promise.reject(transactionLost())
    if (pinned && this.#ended.has(lease)) return Promise.reject(transactionEnded())
    if (kind === 'commit' && !pinned) kind = 'raw' // an app's own COMMIT in a connection scope
    // File operations (import, delete) carry none: they cannot be recorded, and must not run twice.
    const op =
      ((kind === 'write' || kind === 'raw') && !pinned && !admin) || kind === 'commit'
        ? this.#opPrefix + this.#nextOp++
        : undefined
    return new Promise<ExecResult>((resolve, reject) => {
      const request: Request = {
        id: this.#nextId++,
        lease,
        sql,
        params,
        read: kind === 'read' || kind === 'describe',
        describe: kind === 'describe',
        admin,
        timeoutMs,
        maxSweeps: this.#maxSweeps(timeoutMs),
        op,
        commit: kind === 'commit',
        raw: kind === 'raw',
        maybeApplied: false,
        losses: 0,
        sweeps: 0,
        startedAt: performance.now(),
        resolve: (result) => {
          this.onSettled?.(performance.now() - request.startedAt, this.#route?.activeTabId === this.#tabId)
          resolve(result)
        },
        reject: (error) => {
          this.onSettled?.(performance.now() - request.startedAt, this.#route?.activeTabId === this.#tabId, error)
          reject(error)
        },
      }
      if (this.#route) this.#send(request, this.#route)
      else this.#wait(request)
    })
  }

  /**
   * The lease's scope ended; the active worker may hand the connection to the next. The release
   * rides on this tab's next statement if one follows at once (the common case of queries in a
   * loop), else it goes alone: one message, not two, per query.
   */
  release(lease: number): void {
    const epoch = this.#leaseEpoch.get(lease)
    this.#leaseEpoch.delete(lease)
    this.#pinned.delete(lease)
    this.#rawPinned.delete(lease)
    this.#ended.delete(lease)
    if (epoch === undefined || epoch !== this.#route?.epoch) return
    this.#releases.push(lease)
    if (!this.#releaseScheduled) {
      this.#releaseScheduled = true
      this.#awaitNextStatement(RELEASE_HOPS)
    }
  }

  /**
   * Gives this tab's code a few microtasks to send its next statement (Kysely returns a query's
   * rows through several awaits, then the app's loop sends the next one, all in one task): the
   * releases ride on it. If none comes, they go alone, still within the same task. A task of its
   * own per query (a MessageChannel tick) cost more than the statement's own overhead.
   */
  #awaitNextStatement(hops: number): void {
    // A promise reaction, not queueMicrotask(): measured a few percent faster per query in Chromium.
    void RESOLVED.then(() => {
      if (this.#releases.length === 0) {
        this.#releaseScheduled = false
      } else if (hops > 0) {
        this.#awaitNextStatement(hops - 1)
      } else {
        this.#flushReleases()
      }
    })
  }

  #flushReleases(): void {
    this.#releaseScheduled = false
    if (this.#releases.length === 0 || !this.#route) return
    const releases = this.#releases
    this.#releases = []
    this.#route.port.postMessage({ t: 'release', leases: releases })
  }

  /** Whether setRoute would take a route of `epoch` (not closed, not an older election). */
  acceptsRoute(epoch: number): boolean {
    return !this.#closed && epoch >= this.#highestEpoch && !(this.#route && epoch <= this.#route.epoch)
  }

  /** A new route from the coordinator. Stale ones (an older election) are dropped. */
  setRoute(epoch: number, activeTabId: string, port: Line, token: string, reason: HandoffReason = 'elected'): void {
    if (!this.acceptsRoute(epoch)) {
      port.close()
      return
    }
    if (this.#route) this.#lose(this.#route)
    this.#releases = []
    this.#highestEpoch = epoch
    this.#failure = undefined
    const route: Route = { epoch, activeTabId, port }
    this.#route = route
    port.onmessage = (event) => this.#onReply(event.data)
    port.postMessage({ t: 'hello', token })
    if (this.#subscribed) port.postMessage({ t: 'subscribe', on: true })
    const waiting = this.#waiting
    this.#waiting = []
    for (const request of waiting) {
      clearTimeout(request.timer)
      if (this.#settle(request, 'new-holder')) this.#send(request, route)
    }
    this.onRoute?.(route, reason)
  }

  /** The active tab is gone; with `error`, no tab can serve the database at all. */
  loseRoute(epoch: number, reason: HandoffReason, error?: SerializedError): void {
    this.#highestEpoch = Math.max(this.#highestEpoch, epoch)
    if (this.#route && this.#route.epoch <= epoch) {
      const lost = this.#route
      this.#lose(lost)
      this.#route = undefined
      this.onRouteLost?.(lost, epoch, reason)
    }
    if (error && !this.#route) {
      this.#failure = deserializeError(error)
      const waiting = this.#waiting
      this.#waiting = []
      for (const request of waiting) {
        clearTimeout(request.timer)
        request.reject(deserializeError(error))
      }
    }
  }

  /** Settles everything with `error`; later calls fail with it too. */
  close(error: Error = destroyedError()): void {
    this.#closed = error
    // A write already sent may still be applied by the worker it reached: say so, not "closed".
    // (Not a statement of an open transaction: that is rolled back when this tab goes; its COMMIT may not be.)
    for (const request of this.#inFlight.values()) this.#settle(request, 'tab-closed')
    for (const request of this.#waiting) {
      clearTimeout(request.timer)
      this.#settle(request, 'tab-closed', false)
    }
    this.#inFlight.clear()
    this.#waiting = []
    this.#route?.port.close()
    this.#route = undefined
    clearInterval(this.#sweepTimer)
    this.#sweepTimer = undefined
  }

  #send(request: Request, route: Route): void {
    request.epoch = route.epoch
    // A lease outside a transaction simply continues on the new holder (which must then release it).
    const leaseEpoch = this.#leaseEpoch.get(request.lease)
    if (leaseEpoch === undefined || (leaseEpoch !== route.epoch && !this.#pinned.has(request.lease))) {
      this.#leaseEpoch.set(request.lease, route.epoch)
    }
    request.sweeps = 0
    this.#inFlight.set(request.id, request)
    if (this.#sweepTimer === undefined && this.#answerTimeoutMs !== Infinity) {
      this.#sweepTimer = setInterval(() => this.#sweep(), this.#answerTimeoutMs / SWEEPS_PER_BOUND)
    }
    let releases: number[] | undefined
    if (this.#releases.length > 0) {
      releases = this.#releases
      this.#releases = []
    }
    // Only the fields that are set: every one is cloned across threads, and this is per statement.
    const message: Mutable<ExecRequest> = {
      t: 'exec',
      id: request.id,
      lease: request.lease,
      sql: request.sql,
      params: request.params,
    }
    if (releases) message.releases = releases
    if (request.op) {
      message.op = request.op
      message.retry = request.maybeApplied
    }
    if (request.commit) message.commit = true
    if (request.describe) message.describe = true
    if (request.admin) message.admin = request.admin
    if (request.timeoutMs !== undefined) message.timeoutMs = request.timeoutMs
    route.port.postMessage(message)
  }

  #maxSweeps(timeoutMs: number | undefined): number {
    if (timeoutMs === undefined || timeoutMs <= this.#statementTimeoutMs) return SWEEPS_PER_BOUND
    const bound = this.#answerTimeoutMs + timeoutMs - this.#statementTimeoutMs
    return Math.ceil((SWEEPS_PER_BOUND * bound) / this.#answerTimeoutMs)
  }

  /**
   * Fails the statements in flight for longer than `answerTimeoutMs`, counted in sweeps (no clock
   * read per statement); runs only while statements are in flight.
   */
  #sweep(): void {
    if (this.#inFlight.size === 0) {
      clearInterval(this.#sweepTimer)
      this.#sweepTimer = undefined
      return
    }
    for (const request of [...this.#inFlight.values()]) {
      // The file operations (import, export, delete, check) have no statement limit to bound them.
      if (request.admin || ++request.sweeps <= request.maxSweeps) continue
      this.#inFlight.delete(request.id)
      // Still queued there (behind other leases), it must not run, and take the lease, later.
      this.#route?.port.postMessage({ t: 'withdraw', lease: request.lease })
      this.#settle(request, 'no-answer')
    }
  }

  #wait(request: Request): void {
    if (this.#failure) {
      request.reject(this.#failure)
      return
    }
    request.timer = setTimeout(() => {
      this.#waiting = this.#waiting.filter((r) => r !== request)
      this.#settle(request, 'no-holder-in-time', false)
    }, this.#requestTimeoutMs)
    this.#waiting.push(request)
  }

  #onReply(data: unknown): void {
    const reply = data as WorkerReply
    if (reply?.t === 'changes') {
      if (Array.isArray(reply.tables))
        this.onChanges?.(
          reply.tables.filter((t) => typeof t === 'string'),
          reply.schema === true,
        )
      return
    }
    if (reply?.t === 'gone') {
      // Only the current route's line is listened to, so this is about the current route.
      if (this.#route) this.loseRoute(this.#route.epoch, 'coordinator-lost')
      return
    }
    const request = typeof reply?.id === 'number' ? this.#inFlight.get(reply.id) : undefined
    if (!request) return
    this.#inFlight.delete(reply.id)
    if (reply.t === 'result') {
      this.#noteTransaction(request, reply.tx === true)
      request.resolve(reply)
    } else if (reply.t === 'error') {
      // A failed text may have opened a transaction, or SQLite may have ended one (rolled back).
      // A retried COMMIT's "not committed" comes from a holder that never had the transaction.
      const error = deserializeError(reply.error)
      // A lease revoked for its idle time was rolled back by the worker: its next statements get
      // the LeaseTimeoutError it remembers, not a TransactionEndedError.
      if (!(error instanceof LeaseTimeoutError)) this.#noteTransaction(request, reply.tx === true, true)
      request.reject(error)
    } else if (reply.t === 'refused') this.#resend(request)
  }

  /**
   * After each statement the worker says whether a transaction is open on the connection. One the
   * app began with raw SQL (`BEGIN`, `SAVEPOINT`) in a `db.connection()` scope pins the lease as
   * `db.transaction()` does: after a hand-off its statements fail with ActiveTabLostError rather
   * than run, in autocommit, on the next holder without the statements before them.
   */
  #noteTransaction(request: Request, open: boolean, failed = false): void {
    const lease = request.lease
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
    } else if (this.#pinned.size > 0 && this.#pinned.has(lease) && !request.commit) {
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
  #diesWithTransaction(request: Request): boolean {
    if (request.commit) return false
    if (!request.raw) return true
    const { keyword, single } = sqlShape(request.sql)
    if (!single || keyword === 'commit' || keyword === 'end') return false
    return !(keyword === 'release' && this.#rawPinned.has(request.lease))
  }

  /** The statement did not run: send it to the next holder, unless it belongs to a lost transaction. */
  #resend(request: Request): void {
    if (!this.#settle(request, 'refused')) return
    // A pinned lease keeps the epoch its transaction ran on, so that leaseLost() stays true and the
    // driver sends no ROLLBACK to a holder that never had the transaction.
    if (!this.#pinned.has(request.lease)) this.#leaseEpoch.delete(request.lease)
    if (this.#route && request.epoch !== this.#route.epoch) this.#send(request, this.#route)
    else this.#wait(request)
  }

  #lose(route: Route): void {
    this.#releases = []
    route.port.onmessage = null
    route.port.close()
    for (const request of [...this.#inFlight.values()]) {
      if (request.epoch !== route.epoch) continue
      this.#inFlight.delete(request.id)
      // Outside a transaction the lease goes on with the next holder, whatever becomes of this
      // statement: a transaction it begins later must not count as lost with this one.
      if (!this.#pinned.has(request.lease)) this.#leaseEpoch.delete(request.lease)
      if (this.#settle(request, 'holder-lost')) this.#wait(request)
    }
  }

  /**
   * Applies the failover table to `request` after `event`: true when it goes on (to be sent, as
   * a retry if it may have been applied), false when it was rejected.
   */
  #settle(request: Request, event: FailoverEvent, sent = true): boolean {
    const pinned = this.#pinned.has(request.lease)
    const fate = failoverFate(
      {
        kind: request.read ? 'read' : request.commit ? 'commit' : request.op ? 'recorded' : 'unrecorded',
        inTransaction: pinned,
        diesWithTransaction: pinned && this.#diesWithTransaction(request),
        maybeApplied: request.maybeApplied,
        sent,
        losses: request.losses,
        old: performance.now() - request.startedAt > this.#requestTimeoutMs,
        transactionGone: pinned && this.leaseLost(request.lease),
      },
      event,
    )
    if (event === 'holder-lost') request.losses++
    if (fate.then === 'ask') request.maybeApplied = true
    if (fate.then !== 'fail') return true
    request.reject(
      failoverError(fate.error, fate.reason, {
        losses: request.losses,
        requestTimeoutMs: this.#requestTimeoutMs,
        answerBoundMs: this.#answerBound(request),
        closed: this.#closed ?? destroyedError(),
      }),
    )
    return false
  }

  /** How long a statement may go unanswered on a live line. */
  #answerBound(request: Request): number {
    return Math.round((request.maxSweeps * this.#answerTimeoutMs) / SWEEPS_PER_BOUND)
  }
}

/** Microtasks a release waits for the next statement to carry it (see awaitNextStatement). */
const RELEASE_HOPS = 64
const RESOLVED = Promise.resolve()
