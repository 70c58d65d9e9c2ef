/**
 * A statement of this tab from the moment the driver hands it over until it settles: what it is,
 * as the failover table sees it, which holder has it, and the message that carries it.
 */
import type { AnswerClock } from './answer-clock.js'
import type { InFlight } from './failover-policy.js'
import type { LeaseBook } from './lease-book.js'
import type { BrowserEnv } from '../protocol/browser-env.js'
import type { Mutable, SqlValue } from '../protocol/message-fields.js'
import type { AdminOperation, ExecRequest, ExecResult } from '../protocol/statement-messages.js'

/** How a statement may be retried after a hand-off. */
export type StatementKind = 'read' | 'write' | 'raw' | 'commit'

/** What a statement carries besides its text. */
export interface ExecExtras {
  /** A whole-database operation instead of the text. */
  readonly admin?: AdminOperation
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

/**
 * A request not sent yet; `op` is its operation id, if it has one (see RequestRouter.exec),
 * `answers` gives its answer bound (for its own time limit, if it has one), and `settled` is told
 * of its latency (and error) when it settles, as `clock` measures it.
 */
export function pendingRequest(
  id: number,
  lease: number,
  sql: string,
  params: SqlValue[],
  kind: StatementKind | 'describe',
  op: string | undefined,
  { admin, timeoutMs }: ExecExtras,
  answers: Pick<AnswerClock, 'maxSweeps'>,
  resolve: (result: ExecResult) => void,
  reject: (error: Error) => void,
  settled: (ms: number, error?: Error) => void,
  clock: Pick<BrowserEnv, 'now'>,
): PendingRequest {
  const request: PendingRequest = {
    id,
    lease,
    sql,
    params,
    read: kind === 'read' || kind === 'describe',
    describe: kind === 'describe',
    admin,
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
export function execMessage(request: PendingRequest, releases: number[] | undefined): ExecRequest {
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
  return message
}
