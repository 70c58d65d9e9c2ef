/**
 * A tab's membership in one database: it holds the tab's liveness lock, starts the tab worker,
 * joins the coordinator, and turns the driver's calls into requests on the current route.
 */
import { pageVisible, watchVisibility } from './page-visibility.js'
import {
  DatabaseClosedError,
  NoActiveTabError,
  StorageUnavailableError,
  appendCallerStack,
  deserializeError,
  destroyedError,
} from '../protocol/errors.js'
import {
  PROTOCOL_VERSION,
  type ExecResult,
  type InitMessage,
  type JoinMessage,
  type AdminOperation,
  type HandoffReason,
  type OwnLineOpen,
  type OwnWorkerReply,
  type WorkerReply,
  type SqlValue,
  type StorageKind,
  type WorkerStatus,
} from '../protocol/messages.js'
import { databaseNames, type DatabaseNames } from '../protocol/names.js'
import { newTabIdentity, type TabIdentity } from '../protocol/tab-identity.js'
import { parseCoordinatorToTab } from '../protocol/validate.js'
import { debugLog, type DebugLog } from '../protocol/debug-log.js'
import type { ResolvedConfig } from '../dialect/options.js'
import { startTabWorker } from './asset-urls.js'
import { CoordinatorLink, type CoordinatorKind } from './coordinator-link.js'
import { newLine, openLine, transferOf, type Line, type LineRef } from '../protocol/line.js'
import { RequestRouter, type StatementKind } from './request-router.js'
import { OwnWorkerLine } from './own-worker-line.js'
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

const WORKER_CLOSE_TIMEOUT_MS = 3000
const NO_WORKER: WorkerStatus = { active: false, openCount: 0, attachedTabs: 0, subscribers: 0 }
const ASSET_HINT =
  ". With Vite's dev server, add optimizeDeps: { exclude: ['kysely-multitab-opfs'] }; if you serve the " +
  'package files elsewhere, set workerUrl / coordinatorUrl / wasmUrl'

export class TabClient {
  /** This tab's id: known once start() (or status()) has awaited the identity. */
  tabId = ''
  readonly #config: Readonly<ResolvedConfig>
  readonly #names: DatabaseNames
  readonly #router: RequestRouter
  #worker: Worker | undefined
  #link: CoordinatorLink | undefined
  #coordinatorWatch: AbortController | undefined
  #releaseTabLock: (() => void) | undefined
  /** When this tab first joined a coordinator (see JoinMessage.since). */
  #joinedAt: number | undefined
  #started: Promise<void> | undefined
  #closed = false
  #nextLease = 1
  #nextCall = 1
  readonly #calls = new Map<number, (reply: OwnWorkerReply) => void>()
  /** The route to this tab's own worker, while it is the active one (see own-worker-line.ts). */
  #ownLine: OwnWorkerLine | undefined
  #ownLineSerial = 0
  /** The worker was terminated, or failed to load or start: it answers nothing any more. */
  #workerGone = false
  #log: DebugLog
  #routeWaiters: Array<(activeTabId: string) => void> = []
  /** Pending requestActive() / stepDown() calls, failed at once when the tab closes. */
  readonly #handoffFailers = new Set<(error: Error) => void>()
  /** How many routes this tab has lost to a manual hand-off (a step-down's progress, see handoff()). */
  #manualLosses = 0
  #lastActive: string | undefined
  #roster: readonly string[] = []
  #hadRoute = false
  readonly changes = new TableChanges((on) => this.#router.subscribe(on))
  readonly #metrics = new TabMetrics()
  #lostAt: number | undefined
  /** Why the last route was lost: a restarted coordinator's first election does not know. */
  #lostReason: HandoffReason | undefined
  /** The active tab whose goodbye this tab already reported as `active-lost`. */
  #announcedLost: string | undefined
  readonly events: TabEvents
  /** Whether the browser keeps this origin's storage under pressure (undefined: not known yet). */
  persisted: boolean | undefined
  #tabLock = ''
  #secret = ''
  /** The id and the secret that proves it to the coordinator (see tab-identity.ts). */
  readonly #identity: Promise<TabIdentity>
  #stopWatchingVisibility: () => void = () => {}
  #storage: StorageKind | undefined

  constructor(config: Readonly<ResolvedConfig>, events: TabEvents = new TabEvents()) {
    this.#config = config
    this.events = events
    this.#log = debugLog(config.debug, 'tab')
    this.#names = databaseNames(config.filename)
    // A statement's answer may wait for other tabs' leases and for its own run: bounded by both.
    const answerTimeoutMs = config.requestTimeoutMs + config.leaseTimeoutMs + config.statementTimeoutMs
    this.#router = new RequestRouter(config.requestTimeoutMs, answerTimeoutMs, config.statementTimeoutMs)
    this.#identity = newTabIdentity().then((identity) => {
      this.tabId = identity.tabId
      this.#router.identify(identity.tabId)
      this.#log = debugLog(config.debug, `tab ${identity.tabId.slice(0, 8)}`)
      return identity
    })
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
    this.#secret = (await this.#identity).secret
    this.#link = new CoordinatorLink(this.#config.coordinator, this.#names, this.#config.coordinatorUrl, this.#log, {
      message: (data) => this.#onCoordinatorMessage(data),
      switched: (reason) => {
        this.events.emit('fallback', { what: 'coordinator', chosen: 'web-locks', reason, degraded: false })
        this.#onCoordinatorDied()
      },
      left: (tabId) => {
        // The active tab closed, perhaps taking the coordinator with it. Only a hint (any script of
        // the origin could post it): it names the reason and starts the hand-off clock; the route
        // stays until the coordinator replaces it.
        const route = this.#router.route
        if (route?.activeTabId !== tabId || this.#lostAt !== undefined) return
        this.#lostAt = performance.now()
        this.#lostReason = 'closed'
        this.#announcedLost = tabId
        this.events.emit('active-lost', { previousActiveTabId: tabId, epoch: route.epoch, reason: 'closed' })
      },
      unanswered: () => this.#onCoordinatorDied(),
      failed: (error) => {
        this.#router.close(new StorageUnavailableError(error.message + ASSET_HINT))
        this.#leave()
      },
    })
    // Asked once, at start; the answer is reported by health().
    void (this.#config.persistentStorage ? navigator.storage?.persist?.() : navigator.storage?.persisted?.())
      ?.then((persisted) => (this.persisted = persisted))
      .catch(() => {})
    const tabLock = this.#names.tabLockPrefix + this.tabId
    // Held for the tab's whole life; the coordinator queues for it to learn when the tab is gone.
    await new Promise<void>((granted) => {
      void navigator.locks.request(tabLock, () => {
        granted()
        return new Promise<void>((release) => (this.#releaseTabLock = release))
      })
    })
    if (this.#closed) {
      this.#releaseTabLock?.()
      return
    }

    this.#tabLock = tabLock
    if (this.#link.kind === 'web-locks' && this.#config.coordinator === 'auto') {
      this.events.emit('fallback', {
        what: 'coordinator',
        chosen: 'web-locks',
        reason: 'SharedWorker is not available',
        degraded: false,
      })
    }
    this.#joinCoordinator(this.#startWorker())
    // Say goodbye while the page is going, so the others see 'closed' (not 'crashed') at once.
    globalThis.addEventListener?.('pagehide', this.#onPageHide)
    this.#stopWatchingVisibility = watchVisibility((visible) => {
      this.#log('visibility', { visible })
      this.#link?.post({ t: 'visibility', v: PROTOCOL_VERSION, tabId: this.tabId, visible })
    })
  }

  readonly #onPageHide = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) return // kept in the back/forward cache
    this.#leave()
    // WebKit keeps a closed page's DedicatedWorker running, with its Web Locks and files: the
    // next holder would wait for them forever. The page is going: end the worker with it.
    this.#worker?.terminate()
  }

  /** Joins the coordinator (starting it if no tab has) with this tab's worker line. */
  #joinCoordinator(workerPort: LineRef): void {
    const join: JoinMessage = {
      t: 'join',
      v: PROTOCOL_VERSION,
      tabId: this.tabId,
      secret: this.#secret,
      tabLock: this.#tabLock,
      workerPort,
      epoch: this.#router.highestEpoch,
      holder: this.#router.route?.activeTabId === this.tabId,
      since: (this.#joinedAt ??= Date.now()),
      hangTimeoutMs: this.#config.hangTimeoutMs,
      visible: pageVisible(),
      ...(this.#config.hiddenHandoffMs === false ? {} : { hiddenHandoffMs: this.#config.hiddenHandoffMs }),
      debug: !!this.#config.debug,
    }
    this.#log('join', { tabId: this.tabId, epoch: join.epoch, holder: join.holder, coordinator: this.#link!.kind })
    this.#link!.join(join)
  }

  /**
   * The coordinator's lifetime lock was granted to us: it died (its process crashed); or this tab
   * changed how it reaches the coordinator. Join the (new) one; the worker gets a fresh line to it.
   */
  #onCoordinatorDied(): void {
    if (this.#closed || !this.#worker) return
    this.#log('joining the coordinator again')
    const [workerEnd, coordinatorEnd] = newLine(this.#link!.ports)
    this.#worker.postMessage({ t: 'coordinator-port', v: PROTOCOL_VERSION, port: workerEnd }, transferOf(workerEnd))
    this.#joinCoordinator(coordinatorEnd)
  }

  /** Starts this tab's worker; returns the line end the coordinator will use to reach it. */
  #startWorker(): LineRef {
    const worker = startTabWorker(this.#config.workerUrl, `kysely-multitab ${this.#config.filename}`)
    this.#worker = worker
    worker.onmessage = (event) => {
      const data = event.data as OwnWorkerReply | OwnLineOpen | WorkerReply
      if (data?.t === 'reply') this.#calls.get(data.id)?.(data)
      else if (worker !== this.#worker) return
      else if (data?.t === 'own-line-open') this.#ownLine?.opened(data.serial)
      else this.#ownLine?.deliver(event) // the own line's traffic (see own-worker-line.ts)
    }
    worker.onerror = (event) => {
      event.preventDefault?.()
      // Failed, it may still hold the files (and the role lock) until its own timeout: free them now.
      worker.terminate()
      if (worker === this.#worker) this.#workerEnded()
      this.#router.close(new StorageUnavailableError(`The tab worker failed: ${event.message || 'could not load'}${ASSET_HINT}`))
      this.#leave()
    }
    const [workerEnd, coordinatorEnd] = newLine(this.#link!.ports)
    const init: InitMessage = {
      t: 'init',
      v: PROTOCOL_VERSION,
      tabId: this.tabId,
      filename: this.#config.filename,
      directory: this.#names.directory,
      // Resolved here: the worker cannot resolve a page-relative URL.
      wasmUrl: this.#config.wasmUrl ? new URL(String(this.#config.wasmUrl), globalThis.location?.href).href : '',
      coordinatorPort: workerEnd,
      roleLock: this.#names.roleLock,
      leaseTimeoutMs: this.#config.leaseTimeoutMs,
      hangTimeoutMs: this.#config.hangTimeoutMs,
      storage: this.#config.storage,
      openAttempts: this.#config.openAttempts,
      openRetryDelayMs: this.#config.openRetryDelayMs,
      debug: !!this.#config.debug,
      warmStandby: this.#config.warmStandby,
      connectionSetup: this.#config.connectionSetup,
      statementTimeoutMs: this.#config.statementTimeoutMs,
    }
    worker.postMessage(init, transferOf(workerEnd))
    return coordinatorEnd
  }

  /**
   * The coordinator declared this tab's worker hung and gave the role to another tab. Terminating
   * the worker is what frees the OPFS files for the new active tab; a fresh worker takes its place
   * so this tab can be elected again later.
   */
  #replaceWorker(): void {
    if (this.#closed) return
    this.#worker?.terminate()
    this.#settleCalls()
    const workerPort = this.#startWorker()
    this.#link?.post({ t: 'rejoin', v: PROTOCOL_VERSION, tabId: this.tabId, workerPort })
  }

  #onCoordinatorMessage(data: unknown): void {
    const message = parseCoordinatorToTab(data)
    if (!message) {
      this.#log('dropped a malformed message from the coordinator', { data })
      return
    }
    if (message.t !== 'roster' && message.t !== 'welcome') {
      const { token: _token, ...details } = message as { token?: string }
      this.#log(`coordinator: ${message.t}`, describe(details))
    }
    switch (message.t) {
      case 'route':
        this.#storageInUse(message.storage, message.storageReason)
        this.#router.setRoute(
          message.epoch,
          message.activeTabId,
          this.#routeLine(message.epoch, message.activeTabId, message.port, message.token),
          message.token,
          message.reason,
        )
        break
      case 'route-lost':
        this.#router.loseRoute(message.epoch, message.reason, message.error)
        break
      case 'fence':
        this.#replaceWorker()
        break
      case 'roster':
        this.#roster = Object.freeze([...message.tabIds])
        this.events.emit('tabs-changed', { tabs: this.#roster, activeTabId: message.activeTabId })
        break
      case 'welcome': {
        // Granted when the serving coordinator is gone (it holds this lock while it serves).
        this.#coordinatorWatch?.abort()
        const watch = (this.#coordinatorWatch = new AbortController())
        navigator.locks
          .request(message.lock, { signal: watch.signal }, () => {
            if (!watch.signal.aborted) this.#onCoordinatorDied()
          })
          .catch(() => {})
        break
      }
      case 'rejected':
        // Another release runs this database: this tab can do nothing with it, so it leaves (it
        // would otherwise stay queued to host a coordinator of its own release).
        this.#router.close(deserializeError(message.error))
        this.#leave()
        break
    }
  }

  /**
   * The line of a route. To this tab's own worker it is the Worker channel itself (the worker
   * matches it to the route by its token), not the brokered port or BroadcastChannel line, which
   * is left unopened: see own-worker-line.ts.
   */
  #routeLine(epoch: number, activeTabId: string, ref: LineRef, token: string): Line {
    // A stale route is refused (and its line closed) by the router: it must not move the own line.
    if (activeTabId !== this.tabId || !this.#worker || !this.#router.acceptsRoute(epoch)) return openLine(ref)
    if (typeof ref !== 'string') ref.close()
    this.#ownLine = new OwnWorkerLine(this.#worker, token, ++this.#ownLineSerial)
    return this.#ownLine
  }

  /** The active worker's storage, from a route: a fallback is announced once per storage. */
  #storageInUse(storage: StorageKind, reason: string | undefined): void {
    if (storage === this.#storage) return
    this.#storage = storage
    const degraded = storage === 'memory'
    if (degraded) {
      console.warn(
        `kysely-multitab: '${this.#config.filename}' is IN MEMORY: nothing persists, and a hand-off to another tab starts empty` +
          (reason ? ` (${reason})` : ' (storage: memory was asked for)'),
      )
    }
    if (reason) this.events.emit('fallback', { what: 'storage', chosen: storage, reason, degraded })
  }

  /** A new lease number: one per Kysely connection scope. */
  newLease(): number {
    return this.#nextLease++
  }

  exec(lease: number, sql: string, params: SqlValue[], kind: StatementKind, timeoutMs?: number): Promise<ExecResult> {
    return this.#router.exec(lease, sql, params, kind, timeoutMs === undefined ? undefined : { timeoutMs })
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
            : activeTabId === this.tabId && this.#roster.length > 1 && this.#manualLosses === lostBefore
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
    this.#link?.post({ t: 'handoff', v: PROTOCOL_VERSION, tabId: this.tabId, action })
    return done
  }

  release(lease: number): void {
    this.#router.release(lease)
  }

  pin(lease: number): void {
    this.#router.pin(lease)
  }

  unpin(lease: number): void {
    this.#router.unpin(lease)
  }

  leaseLost(lease: number): boolean {
    return this.#router.leaseLost(lease)
  }

  transactionEnded(lease: number): boolean {
    return this.#router.transactionEnded(lease)
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
  async admin(operation: AdminOperation, params: SqlValue[] = []): Promise<ExecResult> {
    await this.start()
    const lease = this.newLease()
    const read = operation === 'export' || operation === 'check' || operation === 'stats'
    const caller = callerBeforeSend()
    try {
      return await this.#router.exec(lease, '', params, read ? 'read' : 'raw', { admin: operation })
    } catch (error) {
      throw appendCallerStack(error, caller ?? new Error())
    } finally {
      this.#router.release(lease)
    }
  }

  /** The tables `sql` reads and writes, as the active worker's SQLite sees them (views resolved). */
  async describe(sql: string): Promise<{ reads: readonly string[]; writes: readonly string[] }> {
    await this.start()
    const lease = this.newLease()
    try {
      const result = await this.#router.exec(lease, sql, [], 'describe')
      return { reads: result.reads ?? [], writes: result.writes ?? [] }
    } finally {
      this.#router.release(lease)
    }
  }

  async status(): Promise<TabStatus> {
    await this.#identity
    const worker = await this.#workerStatus()
    const route = this.#router.route
    return {
      tabId: this.tabId,
      role:
        this.#closed || this.#workerGone
          ? 'closed'
          : !route
            ? 'electing'
            : route.activeTabId === this.tabId
              ? 'active'
              : 'follower',
      activeTabId: route?.activeTabId,
      tabs: this.#roster,
      coordinator: this.#link?.kind ?? (this.#config.coordinator === 'web-locks' ? 'web-locks' : 'shared-worker'),
      storage: this.#storage,
      degraded: this.#storage === 'memory',
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
    if (this.#worker) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        this.#call('close'),
        new Promise((resolve) => (timer = setTimeout(resolve, WORKER_CLOSE_TIMEOUT_MS))),
      ]).catch(() => {})
      clearTimeout(timer)
    }
    this.#leave()
    globalThis.removeEventListener?.('pagehide', this.#onPageHide)
    this.#stopWatchingVisibility()
    this.#worker?.terminate()
    this.#workerEnded()
    this.#releaseTabLock?.()
  }

  #leave(): void {
    this.#coordinatorWatch?.abort()
    this.#link?.close({ t: 'leave', v: PROTOCOL_VERSION, tabId: this.tabId })
  }

  /** The worker's own view; a worker that is gone (closed, or failed to load) answers nothing. */
  async #workerStatus(): Promise<WorkerStatus> {
    if (!this.#worker || this.#workerGone) return NO_WORKER
    try {
      return (await this.#call('worker-status')).value as WorkerStatus
    } catch {
      return NO_WORKER
    }
  }

  /** The worker was terminated for good, or failed to load or start. */
  #workerEnded(): void {
    this.#workerGone = true
    this.#settleCalls()
  }

  /** What was asked of a worker that is gone will never be answered: answer as an idle one would. */
  #settleCalls(): void {
    for (const resolve of this.#calls.values()) resolve({ t: 'reply', id: -1, value: NO_WORKER })
    this.#calls.clear()
  }

  #call(t: 'worker-status' | 'close'): Promise<OwnWorkerReply> {
    if (this.#workerGone) return Promise.reject(new DatabaseClosedError('The tab worker is gone'))
    const id = this.#nextCall++
    return new Promise((resolve, reject) => {
      this.#calls.set(id, (reply) => {
        this.#calls.delete(id)
        if (reply.error) reject(deserializeError(reply.error))
        else resolve(reply)
      })
      this.#worker!.postMessage({ t, id })
    })
  }
}

/** A message's fields for the debug log, without its ports. */
function describe(message: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(message)) if (!(value instanceof MessagePort)) out[key] = value
  return out
}
