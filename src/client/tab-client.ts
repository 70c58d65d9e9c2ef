/**
 * The tab's side of one database: it starts the tab's membership (membership.ts: who this tab is
 * to the coordinator and its worker), turns route changes into the tab's events and metrics, runs
 * the whole-database operations and manual hand-offs. The driver's statements go straight to the
 * RequestRouter it hands out (`statements`).
 */
import { NoActiveTabError, StorageUnavailableError, appendCallerStack, destroyedError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, type HandoffReason, type StorageKind } from '../protocol/message-fields.js'
import type { WorkerStatus } from '../protocol/own-worker-messages.js'
import type { ExecResult, AdminOperation } from '../protocol/statement-messages.js'
import { databaseNames, type DatabaseNames } from '../protocol/names.js'
import { newTabIdentity, type TabIdentity } from '../protocol/tab-identity.js'
import { debugLog } from '../protocol/debug-log.js'
import type { ResolvedConfig } from '../dialect/options.js'
import type { CoordinatorKind } from './coordinator-link.js'
import { RequestRouter } from './request-router.js'
import { Membership } from './membership.js'
import { NO_WORKER } from './own-worker.js'
import { TabEvents } from './tab-events.js'
import { TabMetrics, type MetricsSnapshot } from './tab-metrics.js'
import { TableChanges } from './table-changes.js'
import { callerBeforeSend } from './caller-stack.js'

/** What a tab can see of the shared database. */
export interface TabStatus {
  /** This tab's id (random, per dialect instance). */
  readonly tabId: string
  /**
   * `active`: this tab's worker has the database; `follower`: another's has; `electing`: nobody
   * yet; `closed`: this tab's Kysely was destroyed, or its worker failed to load (its queries fail
   * with `StorageUnavailableError`).
   */
  readonly role: 'active' | 'follower' | 'electing' | 'closed'
  /** The active tab's id, once one is serving. */
  readonly activeTabId: string | undefined
  /** Every open tab of this database, oldest first (as the coordinator last told this tab). */
  readonly tabs: readonly string[]
  /** Which coordinator this tab reaches: the SharedWorker, or the Web Locks + BroadcastChannel one. */
  readonly coordinator: CoordinatorKind
  /** Where the active tab has the database (undefined until one serves). */
  readonly storage: StorageKind | undefined
  /** True when the database does not persist (in-memory storage): tell the user. */
  readonly degraded: boolean
  /** The current election's number; it increases with every hand-off. */
  readonly epoch: number
  /** This tab's own worker. */
  readonly worker: WorkerStatus
}

export class TabClient {
  /** This tab's id: known once start() (or status()) has awaited the identity. */
  tabId = ''
  readonly #config: Readonly<ResolvedConfig>
  readonly #names: DatabaseNames
  readonly #router: RequestRouter
  #membership: Membership | undefined
  #started: Promise<void> | undefined
  #closed = false
  #routeWaiters: Array<(activeTabId: string) => void> = []
  /** Pending requestActive() / stepDown() calls, failed at once when the tab closes. */
  readonly #handoffFailers = new Set<(error: Error) => void>()
  /** How many routes this tab has lost to a manual hand-off (a step-down's progress, see handoff()). */
  #manualLosses = 0
  #lastActive: string | undefined
  #hadRoute = false
  readonly changes = new TableChanges((on) => this.#router.subscribe(on))
  readonly #metrics = new TabMetrics()
  #lostAt: number | undefined
  /** Why the last route was lost: a restarted coordinator's first election does not know. */
  #lostReason: HandoffReason | undefined
  /** The active tab whose goodbye this tab already reported as `active-lost`. */
  #announcedLost: string | undefined
  readonly events: TabEvents
  /** The id and the secret that proves it to the coordinator (see tab-identity.ts). */
  readonly #identity: Promise<TabIdentity>

  constructor(config: Readonly<ResolvedConfig>, events: TabEvents = new TabEvents()) {
    this.#config = config
    this.events = events
    this.#names = databaseNames(config.filename)
    // A statement's answer may wait for other tabs' leases and for its own run: bounded by both.
    const answerTimeoutMs = config.requestTimeoutMs + config.leaseTimeoutMs + config.statementTimeoutMs
    this.#router = new RequestRouter(config.requestTimeoutMs, answerTimeoutMs, config.statementTimeoutMs)
    this.#identity = newTabIdentity().then((identity) => {
      this.tabId = identity.tabId
      this.#router.identify(identity.tabId)
      return identity
    })
    // Without Web Crypto (not a secure context) start() says why; this must not be unhandled.
    void this.#identity.catch(() => {})
    this.#router.onRoute = (route, reason) => {
      const waiters = this.#routeWaiters
      this.#routeWaiters = []
      for (const waiter of waiters) waiter(route.activeTabId)
      if (this.#hadRoute && this.changes.active) this.changes.handedOff()
      this.#hadRoute = true
      const previous = this.#lastActive
      const lostReason = this.#lostReason
      this.#lostReason = undefined
      this.#announcedLost = undefined
      if (previous === route.activeTabId && reason === 'elected') {
        this.#lostAt = undefined
        return
      }
      // A coordinator that restarted elects with 'elected'; this tab may know better why it had to.
      if (reason === 'elected' && previous !== undefined && lostReason) reason = lostReason
      this.#lastActive = route.activeTabId
      this.events.emit('active-changed', {
        activeTabId: route.activeTabId,
        previousActiveTabId: previous,
        isThisTab: route.activeTabId === this.tabId,
        epoch: route.epoch,
        reason,
        handoffMs: this.#lostAt === undefined ? 0 : Math.round(performance.now() - this.#lostAt),
      })
      if (this.#lostAt !== undefined) this.#metrics.handoff(performance.now() - this.#lostAt)
      this.#lostAt = undefined
    }
    this.#router.onSettled = (ms, onActive, error) => {
      this.#metrics.query(ms, onActive, error)
      if (error)
        this.events.emit('error', { error, name: error.name, retryable: (error as { retryable?: boolean }).retryable === true })
    }
    this.#router.onChanges = (tables, schema) => (schema ? this.changes.schemaChanged() : this.changes.committed(tables))
    this.#router.onRouteLost = (lost, epoch, reason) => {
      if (reason === 'manual') this.#manualLosses++
      this.#lostAt ??= performance.now()
      this.#lostReason ??= reason
      if (lost && lost.activeTabId === this.#announcedLost) return // told already (a goodbye)
      this.events.emit('active-lost', { previousActiveTabId: lost?.activeTabId, epoch, reason })
    }
  }

  start(): Promise<void> {
    this.#started ??= this.#start()
    return this.#started
  }

  async #start(): Promise<void> {
    if (typeof navigator === 'undefined' || !navigator.locks || !crypto.subtle) {
      throw new StorageUnavailableError(
        'Web Locks (navigator.locks) are not available: a secure context (https or localhost) is required',
      )
    }
    const identity = await this.#identity
    const log = debugLog(this.#config.debug, `tab ${identity.tabId.slice(0, 8)}`)
    const membership = new Membership(this.#config, this.#names, identity, this.#router, this.events, log, {
      onLeft: (tabId) => this.#activeLeft(tabId),
      closed: () => this.#closed,
    })
    this.#membership = membership
    await membership.join()
  }

  /**
   * The active tab said goodbye, perhaps taking the coordinator with it. Only a hint (any script of
   * the origin could post it): it names the reason and starts the hand-off clock; the route stays
   * until the coordinator replaces it.
   */
  #activeLeft(tabId: string): void {
    const route = this.#router.route
    if (route?.activeTabId !== tabId || this.#lostAt !== undefined) return
    this.#lostAt = performance.now()
    this.#lostReason = 'closed'
    this.#announcedLost = tabId
    this.events.emit('active-lost', { previousActiveTabId: tabId, epoch: route.epoch, reason: 'closed' })
  }

  /** Whether the browser keeps this origin's storage under pressure (undefined: not known yet). */
  get persisted(): boolean | undefined {
    return this.#membership?.storage.persisted
  }

  /** Where the driver's statements go: leases, transactions and routing to the active worker. */
  get statements(): RequestRouter {
    return this.#router
  }

  /**
   * Manual hand-off. `claim`: make this tab the active one; `release`: hand the role to another
   * tab (if there is one). Resolves with the active tab's id once the new route is in place.
   */
  async handoff(action: 'claim' | 'release'): Promise<string> {
    await this.start()
    if (this.#closed) throw destroyedError()
    const route = this.#router.route
    if (action === 'claim' && route?.activeTabId === this.tabId) return this.tabId
    if (action === 'release' && route && route.activeTabId !== this.tabId) return route.activeTabId
    const lostBefore = this.#manualLosses
    const done = new Promise<string>((resolve, reject) => {
      let settled = false
      const fail = (error: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.#handoffFailers.delete(fail)
        reject(error)
      }
      const timer = setTimeout(
        () => fail(new NoActiveTabError(`The hand-off did not complete within ${this.#config.requestTimeoutMs} ms`)),
        this.#config.requestTimeoutMs,
      )
      this.#handoffFailers.add(fail)
      const waiter = (activeTabId: string) => {
        if (settled) return
        // A tab stepping down while it still opened the database is routed to first, then steps
        // down. It ends up with the role again only as the only tab, or once it did step down and
        // no other tab could take over (it lost a route to a manual hand-off since).
        const notYet =
          action === 'claim'
            ? activeTabId !== this.tabId
            : activeTabId === this.tabId && (this.#membership?.roster.length ?? 0) > 1 && this.#manualLosses === lostBefore
        if (notYet) {
          this.#routeWaiters.push(waiter)
          return
        }
        settled = true
        clearTimeout(timer)
        this.#handoffFailers.delete(fail)
        resolve(activeTabId)
      }
      this.#routeWaiters.push(waiter)
    })
    this.#membership?.post({ t: 'handoff', v: PROTOCOL_VERSION, tabId: this.tabId, action })
    return done
  }

  metrics(): MetricsSnapshot {
    const { inFlight, waiting } = this.#router.depth
    return this.#metrics.snapshot(inFlight, waiting)
  }

  /**
   * A whole-database operation on the active worker, as one step of its own lease. Reads (export,
   * check, stats) are resent after a hand-off; import and empty are not (their outcome is then
   * unknown: WriteOutcomeUnknownError).
   */
  async admin(operation: AdminOperation, file?: Uint8Array): Promise<ExecResult> {
    await this.start()
    const lease = this.#router.leases.newLease()
    const read = operation === 'export' || operation === 'check' || operation === 'stats'
    const caller = callerBeforeSend()
    try {
      return await this.#router.exec(lease, '', [], read ? 'read' : 'raw', { admin: operation, file })
    } catch (error) {
      throw appendCallerStack(error, caller ?? new Error())
    } finally {
      this.#router.release(lease)
    }
  }

  /** The tables `sql` reads and writes, as the active worker's SQLite sees them (views resolved). */
  async describe(sql: string): Promise<{ reads: readonly string[]; writes: readonly string[] }> {
    await this.start()
    const lease = this.#router.leases.newLease()
    try {
      const result = await this.#router.exec(lease, sql, [], 'describe')
      return { reads: result.reads ?? [], writes: result.writes ?? [] }
    } finally {
      this.#router.release(lease)
    }
  }

  async status(): Promise<TabStatus> {
    await this.#identity.catch(() => undefined) // without Web Crypto, start() says why
    const membership = this.#membership
    const worker = membership ? await membership.worker.status() : NO_WORKER
    const route = this.#router.route
    return {
      tabId: this.tabId,
      role:
        this.#closed || membership?.worker.gone
          ? 'closed'
          : !route
            ? 'electing'
            : route.activeTabId === this.tabId
              ? 'active'
              : 'follower',
      activeTabId: route?.activeTabId,
      tabs: membership?.roster ?? [],
      coordinator: membership?.coordinator ?? (this.#config.coordinator === 'web-locks' ? 'web-locks' : 'shared-worker'),
      storage: membership?.storage.kind,
      degraded: membership?.storage.kind === 'memory',
      epoch: route?.epoch ?? 0,
      worker,
    }
  }

  /** Leaves: closes the database if this tab holds it (so the next tab can open it), then goes. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const fail of [...this.#handoffFailers]) fail(destroyedError())
    await this.#started?.catch(() => {})
    this.#router.close()
    await this.#membership?.close()
  }
}
