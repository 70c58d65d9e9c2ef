/**
 * Every message the three runtimes exchange, in one place.
 *
 * Control messages (tab <-> coordinator <-> worker) carry the protocol version `v`; a tab built
 * from another release is refused at `join`, so the hot-path messages on a brokered port (which
 * only a joined tab can hold) stay small and unversioned.
 */
import type { SerializedError } from './errors.js'
import type { LineRef } from './line.js'

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 5

/** A message being built field by field (only the fields that are set are cloned across threads). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A value SQLite can store, as it crosses threads. */
export type SqlValue = null | number | bigint | string | Uint8Array

/** Where the database lives (see worker/storage-choice.ts). */
export type StorageKind = 'opfs-sahpool' | 'opfs' | 'idb' | 'memory'
export type StoragePreference = 'auto' | StorageKind

/**
 * Why the active tab changed. `coordinator-lost`: the active worker heard nothing from the
 * coordinator for twice `hangTimeoutMs` and let the database go on its own. `hidden`: the active
 * tab was in the background for `hiddenHandoffMs` while another tab was visible.
 */
export type HandoffReason = 'elected' | 'closed' | 'crashed' | 'hung' | 'manual' | 'failed' | 'coordinator-lost' | 'hidden'

// ---- tab main thread -> coordinator -------------------------------------------------------

export interface JoinMessage {
  readonly t: 'join'
  readonly v: number
  /** Public: every member learns it from the roster. The hash of `secret` (see tab-identity.ts). */
  readonly tabId: string
  /**
   * Private, made by the tab once: a join must bring the secret its tab id was derived from, so
   * that no other script can take the tab's place (and close its lines), even at a coordinator
   * that restarted and has not seen the tab yet.
   */
  readonly secret: string
  /** The name of the Web Lock this tab holds for its lifetime; the coordinator waits on it. */
  readonly tabLock: string
  /** A line to this tab's own worker, for activation and brokering. */
  readonly workerPort: LineRef
  /**
   * Joining over the join channel (no SharedWorker port): the name of this tab's line to the
   * coordinator, on which everything after the join travels.
   */
  readonly line?: string
  /** The highest election epoch this tab has seen (a restarted coordinator continues from it). */
  readonly epoch: number
  /** This tab's worker holds the database now (rejoining a restarted coordinator). */
  readonly holder: boolean
  /**
   * When this tab first joined (ms since the epoch): a restarted coordinator lines the tabs up
   * by it, as the first one did, so the oldest tab (and its warm standby) comes next still.
   */
  readonly since?: number
  /** This tab's hang bound: elected, its worker must show progress at least this often. */
  readonly hangTimeoutMs: number
  /** The page is visible (see VisibilityMessage). */
  readonly visible: boolean
  /** Active and hidden this long while another tab is visible, it hands the role over (absent: never). */
  readonly hiddenHandoffMs?: number
  /** The tab logs; the coordinator logs too (to its own console) once any tab asks. */
  readonly debug?: boolean
  /**
   * Counts this tab's joins: one sent again to a SharedWorker that did not answer may arrive after
   * it on another port, and an older one must not replace the newer one's lines.
   */
  readonly serial?: number
  /**
   * Joining over the join channel the coordinator that took over from a silent one: its lock (as
   * in its `ready`). Any other coordinator, such as the silent one waking up, ignores the join.
   */
  readonly to?: string
}
export interface LeaveMessage {
  readonly t: 'leave'
  readonly v: number
  readonly tabId: string
}
/** The tab replaced its worker (after being fenced): here is the new one's port. */
export interface RejoinMessage {
  readonly t: 'rejoin'
  readonly v: number
  readonly tabId: string
  readonly workerPort: LineRef
}
/** Manual hand-off: `claim` makes this tab active, `release` hands the role to another tab. */
export interface HandoffMessage {
  readonly t: 'handoff'
  readonly v: number
  readonly tabId: string
  readonly action: 'claim' | 'release'
}
/** The page was shown or hidden (or frozen, or put in the back/forward cache: hidden). */
export interface VisibilityMessage {
  readonly t: 'visibility'
  readonly v: number
  readonly tabId: string
  readonly visible: boolean
}
export type TabToCoordinator = JoinMessage | LeaveMessage | RejoinMessage | HandoffMessage | VisibilityMessage

// ---- coordinator -> tab main thread -------------------------------------------------------

export interface RouteMessage {
  readonly t: 'route'
  readonly v: number
  /** Increases with every election; a route with a lower epoch than one already seen is stale. */
  readonly epoch: number
  readonly activeTabId: string
  readonly reason: HandoffReason
  /** This tab's direct line to the active worker. */
  readonly port: LineRef
  /** Sent first on the port (`hello`): the worker serves the port only after it. */
  readonly token: string
  /** Where the active worker has the database. */
  readonly storage: StorageKind
  readonly storageReason?: string
}
export interface RouteLostMessage {
  readonly t: 'route-lost'
  readonly v: number
  readonly epoch: number
  readonly reason: HandoffReason
  /** Set when no tab can serve the database (e.g. storage unavailable): requests fail with it. */
  readonly error?: SerializedError
}
export interface RejectedMessage {
  readonly t: 'rejected'
  readonly v: number
  readonly error: SerializedError
}
/** Your worker was declared hung and lost the role: terminate it (freeing its files) and rejoin. */
export interface FenceMessage {
  readonly t: 'fence'
  readonly v: number
}
/** Joined: the tab may now queue for the coordinator's lifetime lock to learn if it dies. */
export interface WelcomeMessage {
  readonly t: 'welcome'
  readonly v: number
  /**
   * The Web Lock this coordinator instance holds while it lives. Not the coordinator lock: other
   * would-be coordinators queue for that one, and would be granted it first.
   */
  readonly lock: string
}
/** Who is here: sent to every tab whenever a tab joins or leaves or the active tab changes. */
export interface RosterMessage {
  readonly t: 'roster'
  readonly v: number
  /** Tab ids, oldest first. */
  readonly tabIds: readonly string[]
  readonly activeTabId: string | undefined
}
/**
 * This SharedWorker is not the serving coordinator (a Web Locks coordinator of another tab is):
 * join over the join channel instead, so that every tab of the database meets one coordinator.
 */
export interface UseChannelMessage {
  readonly t: 'use-channel'
  readonly v: number
}
/** Posted on the join channel by a tab that is closing (see CoordinatorLink.close). */
export interface LeftMessage {
  readonly t: 'left'
  readonly v: number
  readonly tabId: string
}
/**
 * Posted on the join channel by a coordinator that starts serving: tabs not yet welcomed join
 * again, and tabs welcomed by another instance (one that fell silent and was taken over, see
 * CoordinatorLink) join this one.
 */
export interface ReadyMessage {
  readonly t: 'ready'
  readonly v: number
  /** The instance's lifetime lock, as in its `welcome`: which coordinator this is. */
  readonly lock: string
}
/** How often the serving coordinator says `alive` unasked. */
export const COORDINATOR_ALIVE_MS = 500
/**
 * Posted on the join channel by the serving coordinator every COORDINATOR_ALIVE_MS, and at once
 * when a tab pings: a tab that hears nothing from its coordinator takes its place (see
 * client/coordinator-silence.ts).
 */
export interface AliveMessage {
  readonly t: 'alive'
  readonly v: number
  readonly lock: string
}
/** Posted on the join channel by a tab that has heard nothing from its coordinator for a while. */
export interface PingMessage {
  readonly t: 'ping'
  readonly v: number
}
export type CoordinatorToTab =
  UseChannelMessage | RouteMessage | RouteLostMessage | RejectedMessage | FenceMessage | WelcomeMessage | RosterMessage

// ---- coordinator <-> a tab's worker -------------------------------------------------------

export interface ActivateMessage {
  readonly t: 'activate'
  readonly v: number
  readonly epoch: number
  /**
   * Take the role lock even if a (hung) worker holds it. Safe: the OPFS files themselves admit one
   * holder, so the new worker cannot open them until the old one has let them go.
   */
  readonly steal: boolean
  /**
   * When the coordinator sent it (`Date.now()`). A worker that was stalled or frozen finds old
   * messages in its queue when it resumes; a steal among them would take the role lock from the
   * worker elected since.
   */
  readonly at: number
}
export interface AttachMessage {
  readonly t: 'attach'
  readonly v: number
  readonly epoch: number
  readonly tabId: string
  readonly port: LineRef
  /** The random token the tab must present on the port before anything else. */
  readonly token: string
}
export interface TabGoneMessage {
  readonly t: 'tab-gone'
  readonly v: number
  readonly tabId: string
}
/** Give the database up: (on a hand-off) finish the current lease, bounded, then close the files. */
export interface DeactivateMessage {
  readonly t: 'deactivate'
  readonly v: number
  readonly epoch: number
  /**
   * A hand-off: let the lease that holds the connection finish first. Absent for a worker that
   * was replaced (it stalled): nothing it would run can be served any more.
   */
  readonly drain?: true
}
/** The coordinator heard heartbeat `seq`: the worker may keep serving until its validity ends. */
export interface HeartbeatAckMessage {
  readonly t: 'ack'
  readonly v: number
  readonly epoch: number
  readonly seq: number
}
/**
 * This worker's tab is next in line for the active role (`on`), or no longer is: with the
 * `warmStandby` option it loads and warms SQLite ahead of a failover, and lets it go again.
 */
export interface StandbyMessage {
  readonly t: 'standby'
  readonly v: number
  readonly on: boolean
}
export type CoordinatorToWorker =
  ActivateMessage | AttachMessage | TabGoneMessage | DeactivateMessage | HeartbeatAckMessage | StandbyMessage

export interface ActivatedMessage {
  readonly t: 'activated'
  readonly v: number
  readonly epoch: number
  /** The active worker's heartbeat bound: silent this long, it is declared hung. */
  readonly hangTimeoutMs: number
  /** Where it opened the database. */
  readonly storage: StorageKind
  /** Why the preferred storage was passed over, when it was. */
  readonly storageReason?: string
}
export interface ActivateFailedMessage {
  readonly t: 'activate-failed'
  readonly v: number
  readonly epoch: number
  readonly error: SerializedError
}
/** The active worker is alive (and, while it is still opening the database, making progress: seq 0). */
export interface HeartbeatMessage {
  readonly t: 'heartbeat'
  readonly v: number
  readonly epoch: number
  readonly seq: number
}
export interface DeactivatedMessage {
  readonly t: 'deactivated'
  readonly v: number
  readonly epoch: number
}
export type WorkerToCoordinator = ActivatedMessage | ActivateFailedMessage | HeartbeatMessage | DeactivatedMessage

// ---- tab main thread -> its own worker ----------------------------------------------------

export interface InitMessage {
  readonly t: 'init'
  readonly v: number
  readonly tabId: string
  readonly filename: string
  /** OPFS directory holding this database's files. */
  readonly directory: string
  readonly wasmUrl: string
  /** A line whose other end the coordinator holds. */
  readonly coordinatorPort: LineRef
  readonly roleLock: string
  readonly leaseTimeoutMs: number
  readonly hangTimeoutMs: number
  /** Which storage to open when elected (`auto`: the best this browser has). */
  readonly storage: StoragePreference
  readonly openAttempts: number
  readonly openRetryDelayMs: number
  /** Log to console.debug in the worker. */
  readonly debug: boolean
  /** Load and warm SQLite while next in line for the active role (see StandbyMessage). */
  readonly warmStandby: boolean
  /** A request's statements still running this long are interrupted (`statementTimeoutMs`). */
  readonly statementTimeoutMs: number
  /** Run on each fresh connection before it serves anyone (the `connectionSetup` option). */
  readonly connectionSetup: readonly string[]
}
export interface WorkerStatusRequest {
  readonly t: 'worker-status'
  readonly id: number
}
export interface CloseRequest {
  readonly t: 'close'
  readonly id: number
}
/** The coordinator was restarted: this is the worker's line to the new one. */
export interface CoordinatorPortMessage {
  readonly t: 'coordinator-port'
  readonly v: number
  readonly port: LineRef
}
/**
 * The tab's route to its own (active) worker goes over the Worker channel from here on, instead of
 * the line the coordinator brokered for the route with `token` (see worker/own-line.ts). The
 * worker answers with {@link OwnLineOpen} of the same `serial`.
 */
export interface OwnLineMessage {
  readonly t: 'own-line'
  readonly v: number
  readonly token: string
  readonly serial: number
}
/** The worker's answer to `own-line`: what it posts after this belongs to that line. */
export interface OwnLineOpen {
  readonly t: 'own-line-open'
  readonly serial: number
}
export type TabToOwnWorker = InitMessage | WorkerStatusRequest | CloseRequest | CoordinatorPortMessage | OwnLineMessage

// ---- a tab (over its brokered port) -> the active worker ----------------------------------

export interface ExecRequest {
  readonly t: 'exec'
  /** Leases this tab released since its last message, to release before this statement. */
  readonly releases?: readonly number[]
  readonly id: number
  /** The connection lease this statement runs in; other leases wait until it is released. */
  readonly lease: number
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
  readonly commit?: boolean
  /** Do not run: answer with the tables the statement reads and writes. */
  readonly describe?: boolean
  /** A whole-database operation instead of `sql` (import takes the file as `params[0]`). */
  readonly admin?: AdminOperation
  /** This statement's time limit, in place of the active worker's `statementTimeoutMs`. */
  readonly timeoutMs?: number
}

export type AdminOperation = 'export' | 'import' | 'empty' | 'check' | 'stats'

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
/** Tell this tab which tables each committed transaction wrote (on), or stop (off). */
export interface SubscribeRequest {
  readonly t: 'subscribe'
  readonly on: boolean
}
export interface ReleaseRequest {
  readonly t: 'release'
  readonly leases: readonly number[]
}
/** The tab stopped waiting for the lease's statements (no answer in time): drop those not started. */
export interface WithdrawRequest {
  readonly t: 'withdraw'
  readonly lease: number
}
/** The first message on a brokered port: the token the coordinator gave both ends. */
export interface HelloRequest {
  readonly t: 'hello'
  readonly token: string
}
export type ClientRequest = ExecRequest | ReleaseRequest | WithdrawRequest | SubscribeRequest | HelloRequest
/** Every ClientRequest's `t` (the worker routes these from its own tab to the tab's line). */
export const CLIENT_REQUEST_TYPES = [
  'exec',
  'release',
  'withdraw',
  'subscribe',
  'hello',
] as const satisfies readonly ClientRequest['t'][]
/** Fails to compile when a ClientRequest type is missing from the list above. */
export const ALL_CLIENT_REQUEST_TYPES_LISTED: [Exclude<ClientRequest['t'], (typeof CLIENT_REQUEST_TYPES)[number]>] extends [never]
  ? true
  : false = true

// ---- the active worker -> a tab -----------------------------------------------------------

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

/** What a tab's own worker reports about itself. */
export interface WorkerStatus {
  readonly active: boolean
  /** How many times this worker opened the database file (0 for a tab that never held it). */
  readonly openCount: number
  readonly attachedTabs: number
  /** Tabs that asked this (active) worker for change notifications. */
  readonly subscribers: number
}

/** A tab's own worker answering `worker-status` or `close`. */
export interface OwnWorkerReply {
  readonly t: 'reply'
  readonly id: number
  readonly value?: WorkerStatus
  readonly error?: SerializedError
}
