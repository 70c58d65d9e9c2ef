/**
 * What a tab and the active worker say on a route: statements and their answers. A route is a
 * line the coordinator brokered (held only by a joined tab that showed the line's token, so these
 * messages carry no version), or, for the active tab, its Worker object (see worker/own-line.ts).
 * The worker checks each request (below its type) on the hot path; the tab takes the worker's
 * answers as they come (client/request-router.ts). See message-fields.ts for what all
 * conversations share.
 */
import type { SerializedError } from './errors.js'
import { isDuration, isInt, isObj, isStr, type Fields, type SqlValue } from './message-fields.js'

// ---- a tab (over its brokered port) -> the active worker ----------------------------------

/** What every request that runs on the worker's connection carries. */
interface LeaseRequest {
  /** Its answer carries the same id. */
  readonly id: number
  /** The connection lease it runs in; other leases wait until it is released. */
  readonly lease: number
  /** Leases this tab released since its last message, to release before this request. */
  readonly releases?: readonly number[]
}

/** An SQL statement (or a script of them) to run. */
export interface ExecRequest extends LeaseRequest {
  readonly t: 'exec'
  readonly sql: string
  readonly params: readonly SqlValue[]
  /**
   * For a write outside a transaction: a unique id the worker records in the same SQLite
   * transaction as the write, so a retry after a hand-off is applied at most once.
   */
  readonly op?: string
  /** Set when this is a resend after a hand-off: the worker checks whether `op` was applied. */
  readonly retry?: boolean
  /** This is the COMMIT of a transaction; `op` is recorded inside it. */
  readonly commit?: true
  /** This statement's time limit, in place of the active worker's `statementTimeoutMs`. */
  readonly timeoutMs?: number
}

/** Do not run `sql`: answer with the tables it reads and writes. */
export interface DescribeRequest extends LeaseRequest {
  readonly t: 'describe'
  readonly sql: string
  readonly timeoutMs?: number
}

/** A whole-database operation. */
export interface AdminRequest extends LeaseRequest {
  readonly t: 'admin'
  readonly operation: AdminOperation
  /** The database file to import (only, and always, with `import`). */
  readonly file?: Uint8Array
}

/** A request that runs under its lease on the worker's one connection, answered by its id. */
export type StatementRequest = ExecRequest | DescribeRequest | AdminRequest

const ADMIN_OPERATIONS = ['export', 'import', 'empty', 'check', 'stats'] as const
export type AdminOperation = (typeof ADMIN_OPERATIONS)[number]
const ADMIN_OPERATION_SET: ReadonlySet<unknown> = new Set(ADMIN_OPERATIONS)
/** Lease lists bounded, so one message cannot hold the worker in a long loop. */
const isLeaseList = (x: unknown): x is number[] => Array.isArray(x) && x.length < 10_000 && x.every(isInt)
const isLeaseRequest = (m: Fields): boolean =>
  isInt(m.id) && isInt(m.lease) && (m.releases === undefined || isLeaseList(m.releases))
const isExecRequest = (m: Fields): m is Fields & ExecRequest =>
  m.t === 'exec' &&
  isLeaseRequest(m) &&
  typeof m.sql === 'string' &&
  Array.isArray(m.params) &&
  (m.op === undefined || isStr(m.op)) &&
  (m.retry === undefined || typeof m.retry === 'boolean') &&
  (m.commit === undefined || m.commit === true) &&
  (m.timeoutMs === undefined || isDuration(m.timeoutMs))
const isDescribeRequest = (m: Fields): m is Fields & DescribeRequest =>
  m.t === 'describe' && isLeaseRequest(m) && typeof m.sql === 'string' && (m.timeoutMs === undefined || isDuration(m.timeoutMs))
const isAdminRequest = (m: Fields): m is Fields & AdminRequest =>
  m.t === 'admin' &&
  isLeaseRequest(m) &&
  ADMIN_OPERATION_SET.has(m.operation) &&
  (m.operation === 'import' ? m.file instanceof Uint8Array : m.file === undefined)

/** Tell this tab which tables each committed transaction wrote (on), or stop (off). */
export interface SubscribeRequest {
  readonly t: 'subscribe'
  readonly on: boolean
}
const isSubscribeRequest = (m: Fields): m is Fields & SubscribeRequest => m.t === 'subscribe' && typeof m.on === 'boolean'

export interface ReleaseRequest {
  readonly t: 'release'
  readonly leases: readonly number[]
}
const isReleaseRequest = (m: Fields): m is Fields & ReleaseRequest => m.t === 'release' && isLeaseList(m.leases)

/** The tab stopped waiting for the lease's statements (no answer in time): drop those not started. */
export interface WithdrawRequest {
  readonly t: 'withdraw'
  readonly lease: number
}
const isWithdrawRequest = (m: Fields): m is Fields & WithdrawRequest => m.t === 'withdraw' && isInt(m.lease)

/** The first message on a brokered port: the token the coordinator gave both ends. */
export interface HelloRequest {
  readonly t: 'hello'
  readonly token: string
}
const isHelloRequest = (m: Fields): m is Fields & HelloRequest => m.t === 'hello' && isStr(m.token)

export type ClientRequest = StatementRequest | ReleaseRequest | WithdrawRequest | SubscribeRequest | HelloRequest
/** Every ClientRequest's `t` (the worker routes these from its own tab to the tab's line). */
export const CLIENT_REQUEST_TYPES = [
  'exec',
  'describe',
  'admin',
  'release',
  'withdraw',
  'subscribe',
  'hello',
] as const satisfies readonly ClientRequest['t'][]
/** Fails to compile when a ClientRequest type is missing from the list above. */
export const ALL_CLIENT_REQUEST_TYPES_LISTED: [Exclude<ClientRequest['t'], (typeof CLIENT_REQUEST_TYPES)[number]>] extends [never]
  ? true
  : false = true

/** Hot path: cheap structural checks only; parameter values are checked when they are bound. */
export function parseClientRequest(data: unknown): ClientRequest | undefined {
  if (!isObj(data)) return undefined
  if (
    isExecRequest(data) ||
    isDescribeRequest(data) ||
    isAdminRequest(data) ||
    isReleaseRequest(data) ||
    isWithdrawRequest(data) ||
    isSubscribeRequest(data) ||
    isHelloRequest(data)
  ) {
    return data
  }
  return undefined
}

// ---- the active worker -> a tab -----------------------------------------------------------

/** What the active worker counted, for every tab's statements (`dialect.databaseMetrics()`). */
export interface DatabaseStats {
  /** Statements run since this worker opened the database. */
  readonly statements: number
  /** Failed statements by error name. */
  readonly errors: Readonly<Record<string, number>>
  /** Statements that had to wait for another tab's lease, and how long they waited in all. */
  readonly leaseWaits: number
  readonly leaseWaitMs: number
  /** Statements queued right now. */
  readonly queueDepth: number
  /** Leases revoked (dead tab, idle timeout). */
  readonly revokedLeases: number
  /** Tabs connected to this worker. */
  readonly tabs: number
  /** Milliseconds since the coordinator last acknowledged this worker's heartbeat. */
  readonly sinceHeartbeatMs: number
}

/** `PRAGMA quick_check` and the file's size, from the active worker. */
export interface DatabaseCheck {
  readonly quickCheck: string
  readonly pageSize: number
  readonly pageCount: number
  readonly freePages: number
}

export interface ExecResult {
  readonly t: 'result'
  readonly id: number
  /** Column names, when the statement returns rows (a SELECT, or RETURNING). */
  readonly columns?: readonly string[]
  readonly rows?: readonly SqlValue[][]
  readonly changes?: number
  readonly lastInsertRowid?: bigint
  /**
   * Set when a transaction is open on the connection after the statement: one the app began with
   * raw SQL (`BEGIN`, `SAVEPOINT`) in a connection scope is then pinned like `db.transaction()`.
   */
  readonly tx?: true
  /** For `describe`: the tables the statement reads and writes. */
  readonly reads?: readonly string[]
  readonly writes?: readonly string[]
  /** For admin operations. */
  readonly file?: Uint8Array
  readonly check?: DatabaseCheck
  readonly stats?: DatabaseStats
}
export interface ExecError {
  readonly t: 'error'
  readonly id: number
  readonly error: SerializedError
  /** As on ExecResult: a failed text may still have opened a transaction (`begin; bad`). */
  readonly tx?: true
}
/** The worker did not run the statement (it is giving the database up): send it to the next one. */
export interface ExecRefused {
  readonly t: 'refused'
  readonly id: number
}
/** A transaction committed, writing these tables (sent only to subscribed tabs). */
export interface TablesChanged {
  readonly t: 'changes'
  readonly tables: readonly string[]
  /** The transaction changed the schema (a migration, an import): anything may read differently. */
  readonly schema?: true
}
/**
 * The worker let the database go on its own (the coordinator fell silent), so no `route-lost`
 * may come: the tab drops the route, and its statements wait (bounded) for the next one.
 */
export interface RouteGone {
  readonly t: 'gone'
}
export type WorkerReply = ExecResult | ExecError | ExecRefused | TablesChanged | RouteGone
