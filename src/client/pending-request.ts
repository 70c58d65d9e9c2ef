/**
 * A statement of this tab from the moment the driver hands it over until it settles: what it is,
 * as the failover table sees it, which holder has it, and the message that carries it.
 */
import type { AnswerClock } from './answer-clock.js'
import type { InFlight } from './failover-policy.js'
import type { LeaseBook } from './lease-book.js'
import type { BrowserEnv } from '../protocol/browser-env.js'
import type { Mutable, SqlValue } from '../protocol/message-fields.js'
import type { AdminOperation, ExecResult, StatementRequest } from '../protocol/statement-messages.js'

/** How a statement may be retried after a hand-off. */
export type StatementKind = 'read' | 'write' | 'raw' | 'commit'

/** What a statement carries besides its text. */
export interface ExecExtras {
  /** A whole-database operation instead of the text. */
  readonly admin?: AdminOperation
  /** The database file, for `import`. */
  readonly file?: Uint8Array | undefined
  /** The statement's own time limit, in place of the active worker's `statementTimeoutMs`. */
  readonly timeoutMs?: number
}

export interface PendingRequest {
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
  readonly file: Uint8Array | undefined
  /** Its own statement time limit (StatementTimeoutPlugin), instead of the active worker's. */
  readonly timeoutMs: number | undefined
  /** Answer sweeps after which it fails: more for a time limit above `statementTimeoutMs`. */
  readonly maxSweeps: number
  /** Sent to a holder that went away without answering: it may have been applied. */
  maybeApplied: boolean
  /** How many holders went away with it in flight. */
  losses: number
  /** Answer sweeps (see AnswerClock) it has been in flight for. */
  sweeps: number
  readonly resolve: (result: ExecResult) => void
  readonly reject: (error: Error) => void
  /** Waiting for a route: the `requestTimeoutMs` bound. */
  timer?: ReturnType<typeof setTimeout>
  /** The election epoch of the holder it was last sent to. */
  epoch?: number
  /** When the driver handed it over, on the router's clock (for its latency, and the failover table's `old`). */
  readonly startedAt: number
}

/** What every request of one router shares. */
export interface RequestContext {
  /** The answer bound, for the request's own time limit if it has one. */
  readonly answers: Pick<AnswerClock, 'maxSweeps'>
  /** The clock its latency is measured on. */
  readonly clock: Pick<BrowserEnv, 'now'>
  /** Told of its latency (and error) when it settles. */
  readonly settled: (ms: number, error?: Error) => void
}

/** A request not sent yet; `op` is its operation id, if it has one (see RequestRouter.exec). */
export function pendingRequest(
  id: number,
  lease: number,
  sql: string,
  params: SqlValue[],
  kind: StatementKind | 'describe',
  op: string | undefined,
  { admin, file, timeoutMs }: ExecExtras,
  { answers, clock, settled }: RequestContext,
  resolve: (result: ExecResult) => void,
  reject: (error: Error) => void,
): PendingRequest {
  const request: PendingRequest = {
    id,
    lease,
    sql,
    params,
    read: kind === 'read' || kind === 'describe',
    describe: kind === 'describe',
    admin,
    file,
    timeoutMs,
    maxSweeps: answers.maxSweeps(timeoutMs),
    op,
    commit: kind === 'commit',
    raw: kind === 'raw',
    maybeApplied: false,
    losses: 0,
    sweeps: 0,
    startedAt: clock.now(),
    resolve: (result) => {
      settled(clock.now() - request.startedAt)
      resolve(result)
    },
    reject: (error) => {
      settled(clock.now() - request.startedAt, error)
      reject(error)
    },
  }
  return request
}

/**
 * The request as the failover table sees it (failover-policy.ts): `sent` says whether it is on a
 * live line now, `routeEpoch` is the current route's, if there is one, and `now` the time on the
 * clock its `startedAt` was read from.
 */
export function inFlight(
  request: PendingRequest,
  sent: boolean,
  leases: LeaseBook,
  routeEpoch: number | undefined,
  requestTimeoutMs: number,
  now: number,
): InFlight {
  const { lease } = request
  const pinned = leases.pinned(lease)
  return {
    kind: request.read ? 'read' : request.commit ? 'commit' : request.op ? 'recorded' : 'unrecorded',
    inTransaction: pinned,
    diesWithTransaction: pinned && leases.diesWithTransaction(lease, request.sql, request.raw, request.commit),
    maybeApplied: request.maybeApplied,
    sent,
    losses: request.losses,
    old: now - request.startedAt > requestTimeoutMs,
    transactionGone: pinned && leases.lostOn(lease, routeEpoch),
  }
}

/** The message that puts `request` on a line, carrying `releases` if there are any. */
export function requestMessage(request: PendingRequest, releases: number[] | undefined): StatementRequest {
  // Only the fields that are set: every one is cloned across threads, and this is per statement.
  const message: Mutable<StatementRequest> = request.admin
    ? { t: 'admin', id: request.id, lease: request.lease, operation: request.admin }
    : request.describe
      ? { t: 'describe', id: request.id, lease: request.lease, sql: request.sql }
      : { t: 'exec', id: request.id, lease: request.lease, sql: request.sql, params: request.params }
  if (releases) message.releases = releases
  if (message.t === 'admin') {
    if (request.file) message.file = request.file
    return message
  }
  if (request.timeoutMs !== undefined) message.timeoutMs = request.timeoutMs
  if (message.t === 'exec') {
    if (request.op) {
      message.op = request.op
      message.retry = request.maybeApplied
    }
    if (request.commit) message.commit = true
  }
  return message
}
