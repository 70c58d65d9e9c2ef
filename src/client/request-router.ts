/**
 * Sends this tab's statements to whichever worker is active, over the line the coordinator
 * brokered, and hands each reply to the statement it answers (sent-requests.ts).
 *
 * When the route is lost (the active tab went away) or a worker refuses a statement (it is handing
 * over, so it did not run it), each request it carried goes on or fails as the failover table
 * says (failoverFate in failover-policy.ts; docs/failover.md says it in words): reads and writes
 * with an operation id are sent again, statements of a transaction that died with its holder fail.
 *
 * Every wait is bounded: a request waits for a route at most `requestTimeoutMs`, and a statement
 * sent on a live line gets its answer within the AnswerClock's bound, or fails.
 */
import { failoverError, transactionEnded, transactionLost } from './failover-errors.js'
import { failoverFate, type FailoverEvent } from './failover-policy.js'
import { LeaseBook } from './lease-book.js'
import {
  inFlight,
  pendingRequest,
  requestMessage,
  type RequestContext,
  type ExecExtras,
  type PendingRequest,
  type StatementKind,
} from './pending-request.js'
import { ReleaseBatch } from './release-batch.js'
import { RouteWait } from './route-wait.js'
import { SentRequests } from './sent-requests.js'
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import { deserializeError, destroyedError, type SerializedError } from '../protocol/errors.js'
import type { HandoffReason, SqlValue } from '../protocol/message-fields.js'
import type { ExecResult, WorkerReply } from '../protocol/statement-messages.js'
import type { Line } from '../protocol/line.js'

/** The router's clock (latencies, requests' age) and its bounds' timers: passed in, to test them on a manual clock. */
export type RouterEnv = Pick<BrowserEnv, 'now' | 'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval'>

interface Route {
  readonly epoch: number
  readonly activeTabId: string
  readonly port: Line
}

export class RequestRouter {
  readonly #requestTimeoutMs: number
  readonly #env: RouterEnv
  /** The statements sent and not answered yet. */
  readonly #sent: SentRequests
  /** The live leases: which are in a transaction, and on which holder (the driver pins them). */
  readonly leases = new LeaseBook()
  readonly #releases = new ReleaseBatch((leases) => {
    if (!this.#route) return false
    this.#route.port.postMessage({ t: 'release', leases })
    return true
  })
  #opPrefix = ''
  #tabId = ''
  #nextOp = 1
  #route: Route | undefined
  #highestEpoch = 0
  #closed: Error | undefined
  readonly #waiting: RouteWait
  #nextId = 1
  /** What every request shares: its answer bound, the clock, and telling onSettled. */
  readonly #context: RequestContext

  /**
   * `answerTimeoutMs`: how long a statement sent on a live line may go unanswered (queued behind
   * other tabs' leases and running included) before it fails; it includes `statementTimeoutMs`,
   * which a statement with a longer limit of its own adds the difference to.
   */
  constructor(requestTimeoutMs: number, answerTimeoutMs = Infinity, statementTimeoutMs = 0, env: RouterEnv = browserEnv()) {
    this.#requestTimeoutMs = requestTimeoutMs
    this.#env = env
    this.#waiting = new RouteWait(requestTimeoutMs, (request) => this.#settle(request, 'no-holder-in-time', false), env)
    this.#sent = new SentRequests(this.leases, answerTimeoutMs, statementTimeoutMs, (request) => this.#noAnswer(request), env)
    this.#context = {
      answers: this.#sent.answers,
      clock: env,
      settled: (ms, error) => this.onSettled?.(ms, this.#route?.activeTabId === this.#tabId, error),
    }
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
    return { inFlight: this.#sent.size, waiting: this.#waiting.size }
  }

  /** Called when the route is lost (the active tab went away). */
  onRouteLost: ((lost: Readonly<Route> | undefined, epoch: number, reason: HandoffReason) => void) | undefined

  /** True when the lease ran on a holder that is gone (so its transaction is gone too). */
  leaseLost(lease: number): boolean {
    return this.leases.lostOn(lease, this.#route?.epoch)
  }

  exec(
    lease: number,
    sql: string,
    params: SqlValue[],
    kind: StatementKind | 'describe',
    extras: ExecExtras = NO_EXTRAS,
  ): Promise<ExecResult> {
    const { admin } = extras
    if (this.#closed) return Promise.reject(this.#closed)
    const pinned = this.leases.pinned(lease)
    if (pinned && this.leaseLost(lease)) return Promise.reject(transactionLost())
    if (pinned && this.leases.ended(lease)) return Promise.reject(transactionEnded())
    if (kind === 'commit' && !pinned) kind = 'raw' // an app's own COMMIT in a connection scope
    // File operations (import, delete) carry none: they cannot be recorded, and must not run twice.
    const op =
      ((kind === 'write' || kind === 'raw') && !pinned && !admin) || kind === 'commit'
        ? this.#opPrefix + this.#nextOp++
        : undefined
    return new Promise<ExecResult>((resolve, reject) => {
      const request = pendingRequest(this.#nextId++, lease, sql, params, kind, op, extras, this.#context, resolve, reject)
      if (this.#route) this.#send(request, this.#route)
      else this.#waiting.add(request)
    })
  }

  /** The lease's scope ended; the active worker may hand the connection to the next (see ReleaseBatch). */
  release(lease: number): void {
    const epoch = this.leases.forget(lease)
    if (epoch !== undefined && epoch === this.#route?.epoch) this.#releases.add(lease)
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
    this.#releases.clear()
    this.#highestEpoch = epoch
    this.#waiting.routed()
    const route: Route = { epoch, activeTabId, port }
    this.#route = route
    port.onmessage = (event) => this.#onReply(event.data)
    port.postMessage({ t: 'hello', token })
    if (this.#subscribed) port.postMessage({ t: 'subscribe', on: true })
    for (const request of this.#waiting.takeAll()) {
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
    if (error && !this.#route) this.#waiting.fail(() => deserializeError(error))
  }

  /** Settles everything with `error`; later calls fail with it too. */
  close(error: Error = destroyedError()): void {
    this.#closed = error
    // A write already sent may still be applied by the worker it reached: say so, not "closed".
    // (Not a statement of an open transaction: that is rolled back when this tab goes; its COMMIT may not be.)
    for (const request of this.#sent.takeAll()) this.#settle(request, 'tab-closed')
    for (const request of this.#waiting.takeAll()) this.#settle(request, 'tab-closed', false)
    this.#route?.port.close()
    this.#route = undefined
  }

  #send(request: PendingRequest, route: Route): void {
    this.leases.sentOn(request.lease, route.epoch)
    this.#sent.add(request, route.epoch)
    route.port.postMessage(requestMessage(request, this.#releases.take()))
  }

  /** `request` went unanswered on a live line past its answer bound: it fails. */
  #noAnswer(request: PendingRequest): void {
    // Still queued there (behind other leases), it must not run, and take the lease, later.
    this.#route?.port.postMessage({ t: 'withdraw', lease: request.lease })
    this.#settle(request, 'no-answer')
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
    const refused = this.#sent.answer(reply)
    if (refused) this.#resend(refused)
  }

  /** The statement did not run: send it to the next holder, unless it belongs to a lost transaction. */
  #resend(request: PendingRequest): void {
    if (!this.#settle(request, 'refused')) return
    this.leases.moveOn(request.lease)
    if (this.#route && request.epoch !== this.#route.epoch) this.#send(request, this.#route)
    else this.#waiting.add(request)
  }

  #lose(route: Route): void {
    this.#releases.clear()
    route.port.onmessage = null
    route.port.close()
    for (const request of this.#sent.takeSentOn(route.epoch)) {
      if (this.#settle(request, 'holder-lost')) this.#waiting.add(request)
    }
  }

  /**
   * Applies the failover table to `request` after `event`: true when it goes on (to be sent, as
   * a retry if it may have been applied), false when it was rejected.
   */
  #settle(request: PendingRequest, event: FailoverEvent, sent = true): boolean {
    const facts = inFlight(request, sent, this.leases, this.#route?.epoch, this.#requestTimeoutMs, this.#env.now())
    const fate = failoverFate(facts, event)
    if (event === 'holder-lost') request.losses++
    if (fate.then === 'ask') request.maybeApplied = true
    if (fate.then !== 'fail') return true
    request.reject(
      failoverError(fate.error, fate.reason, {
        losses: request.losses,
        requestTimeoutMs: this.#requestTimeoutMs,
        answerBoundMs: this.#sent.answers.boundMs(request.maxSweeps),
        closed: this.#closed ?? destroyedError(),
      }),
    )
    return false
  }
}

const NO_EXTRAS: ExecExtras = {}
