/**
 * The database as served by the active tab's worker to every tab.
 *
 * Becoming active means: take the role Web Lock, then open the OPFS files. The lock is held until
 * the files are closed again, and the browser drops it if this worker dies. The files themselves
 * admit one holder (a second `createSyncAccessHandle` fails), so even a lock stolen from a hung
 * worker cannot give two workers the files at once.
 *
 * Fencing a hung holder: the worker runs a statement only while its role is fresh (see
 * role-freshness.ts). A worker that stalled (a busy loop, a frozen tab) asks again before running
 * anything: if the coordinator still has it as the active tab it carries on; if another tab was
 * elected meanwhile, it refuses the work that queued up (those tabs resend it to the new active
 * tab) and closes the files.
 *
 * Each tab reaches this worker over its own brokered line (see protocol/line.ts), and this worker's
 * own tab over the Worker channel (see own-line.ts); statements are serialised through one
 * LeaseQueue (see lease-queue.ts).
 */
import {
  ActiveTabLostError,
  HandoffError,
  LeaseTimeoutError,
  ProtocolError,
  WriteOutcomeUnknownError,
  serializeError,
} from '../protocol/errors.js'
import {
  PROTOCOL_VERSION,
  type ClientRequest,
  type ExecError,
  type ExecRequest,
  type ExecResult,
  type InitMessage,
  type Mutable,
  type RouteGone,
  type StorageKind,
  type WorkerReply,
  type WorkerToCoordinator,
} from '../protocol/messages.js'
import { parseClientRequest } from '../protocol/validate.js'
import { silent, type DebugLog } from '../protocol/debug-log.js'
import { LeaseQueue } from './lease-queue.js'
import { OpLedger } from './op-ledger.js'
import { checkDatabase, emptyDatabase, exportDatabase, importDatabase, removeImportLeftover } from './database-file.js'
import { SqliteEngine } from './sqlite-engine.js'
import { HEARTBEATS_PER_BOUND, RoleFreshness } from './role-freshness.js'
import {
  chooseStorage,
  probeCapabilities,
  refuse,
  StorageRefusedError,
  type StorageChoice,
  type StorageCapabilities,
} from './storage-choice.js'
import type { Line } from '../protocol/line.js'

/** The storage asked for is not available here (a permanent failure, reported to every tab). */
class StorageChoiceFailed {
  constructor(readonly error: Error) {}
}

/** A statement the worker did not run because it is giving the database up. */
class NotRun extends Error {}

export class ActiveDatabase {
  readonly #init: InitMessage
  readonly #wasmUrl: string
  readonly #asyncWasmUrl: string
  #storage: StorageChoice | undefined
  /** What this worker's browser offers, probed once at start (see storage-choice.ts). */
  #caps: StorageCapabilities | undefined
  readonly #toCoordinator: (message: WorkerToCoordinator) => void
  readonly #ports = new Map<string, Line>()
  #queue: LeaseQueue
  #engine: SqliteEngine | undefined
  #ledger: OpLedger | undefined
  #epoch = 0
  #releaseRole: (() => void) | undefined
  #openCount = 0
  /** Between `activate` and its outcome (opened, failed, or superseded). */
  #activating = false
  /** Lock requests made by activations; only the latest may open the files. */
  #attempts = 0
  /** Whether this worker may still serve (heartbeats, fencing). */
  readonly #freshness: RoleFreshness
  #leaving: Promise<void> | undefined
  /** Handing over: only the lease that holds the connection may still run statements. */
  #draining = false
  /** The worker gives the database up on its own (no coordinator answers): it tells the tabs. */
  #alone = false
  /** A deactivate without drain came during a drain: stop waiting. */
  #drainCut = false
  /** Tabs that want to hear which tables each commit wrote. */
  readonly #subscribers = new Set<string>()
  readonly #stats = { statements: 0, errors: {} as Record<string, number>, leaseWaits: 0, leaseWaitMs: 0, revokedLeases: 0 }

  readonly #log: DebugLog

  constructor(
    init: InitMessage,
    wasmUrl: string,
    asyncWasmUrl: string,
    toCoordinator: (message: WorkerToCoordinator) => void,
    log: DebugLog = silent,
  ) {
    this.#init = init
    this.#log = log
    this.#wasmUrl = wasmUrl
    this.#asyncWasmUrl = asyncWasmUrl
    this.#toCoordinator = toCoordinator
    this.#queue = this.#newQueue()
    this.#freshness = new RoleFreshness({
      hangTimeoutMs: init.hangTimeoutMs,
      send: (seq) => this.#toCoordinator({ t: 'heartbeat', v: PROTOCOL_VERSION, epoch: this.#epoch, seq }),
      onLost: () => void this.deactivate({ drain: false, alone: true }),
    })
    void probeCapabilities().then((caps) => (this.#caps = caps))
  }

  /** The storage, probing the browser first if the probe at start has not answered yet. */
  async #chosenStorage(): Promise<StorageChoice | StorageChoiceFailed> {
    return this.#storage ?? this.#choose(this.#caps ?? (await probeCapabilities()))
  }

  /** The storage, chosen once per worker: every later activation opens the same one. */
  #choose(caps: StorageCapabilities): StorageChoice | StorageChoiceFailed {
    try {
      return (this.#storage = chooseStorage(this.#init.storage, caps))
    } catch (error) {
      return new StorageChoiceFailed(error as Error)
    }
  }

  get active(): boolean {
    return this.#engine !== undefined
  }

  /** The election this worker last took part in (-1 once a pending activation was cancelled). */
  get epoch(): number {
    return this.#epoch
  }

  get openCount(): number {
    return this.#openCount
  }

  get attachedTabs(): number {
    return this.#ports.size
  }

  get subscribers(): number {
    return this.#subscribers.size
  }

  /**
   * Takes the role lock and opens the files, then reports `activated` for `epoch`. Reports
   * `activate-failed` (releasing the lock) if the files cannot be opened within the bounded retries.
   */
  activate(epoch: number, steal: boolean, sentAt = Date.now()): void {
    if (steal && !this.#engine && Date.now() - sentAt > this.#init.hangTimeoutMs) {
      // Sent before this worker stalled (or froze) and read only now: the coordinator has elected
      // again since, and a steal would take the role lock from the worker it elected.
      this.#activateFailed(epoch, new HandoffError('This election reached a worker that was stalled; it is stale'))
      return
    }
    if (this.#engine && !this.#leaving) {
      // A restarted coordinator re-elected the holder: keep the files, take the new epoch. The
      // tabs get new lines and treat open transactions as lost, so roll those back here too.
      this.#epoch = epoch
      for (const port of this.#ports.values()) port.close()
      this.#ports.clear()
      this.#subscribers.clear()
      const engine = this.#engine
      this.#queue.revokeAll(new NotRun(), () => engine.rollback().catch(() => {}))
      this.#freshness.start()
      this.#toCoordinator({
        t: 'activated',
        v: PROTOCOL_VERSION,
        epoch,
        hangTimeoutMs: this.#init.hangTimeoutMs,
        storage: this.#engine.storage,
        ...(this.#storage?.reason ? { storageReason: this.#storage.reason } : {}),
      })
      return
    }
    if (this.#leaving) {
      this.#activateFailed(epoch, new ActiveTabLostError('This worker is still giving the database up'))
      return
    }
    this.#epoch = epoch
    // One activation at a time. A newer election of this worker while one is under way (a
    // restarted coordinator's) is taken over by it, and it reports the newest epoch: a second
    // request would queue behind our own lock, and the first would report an epoch gone stale.
    // Only a steal (the lock is held by a hung worker) needs a request of its own.
    if (this.#activating && !steal) return
    const urls = { wasmUrl: this.#wasmUrl, asyncWasmUrl: this.#asyncWasmUrl }
    // Fetch and compile the wasm while waiting for the role lock, not after (once the storage is known).
    const known = this.#storage ?? (this.#caps ? this.#choose(this.#caps) : undefined)
    if (known instanceof StorageChoiceFailed) {
      this.#activateFailed(epoch, known.error)
      return
    }
    const attempt = ++this.#attempts
    /** This attempt is the latest, and no deactivate cancelled it. */
    const current = () => attempt === this.#attempts && this.#epoch >= 0
    let opened = false
    // Progress while waiting for the lock and opening: the coordinator elects another if we go
    // silent. Silent, not stopped, while cancelled: a later election may take this attempt over.
    const progress = setInterval(() => {
      if (attempt !== this.#attempts) clearInterval(progress)
      else if (current()) this.#toCoordinator({ t: 'heartbeat', v: PROTOCOL_VERSION, epoch: this.#epoch, seq: 0 })
    }, this.#init.hangTimeoutMs / HEARTBEATS_PER_BOUND)
    const options: LockOptions = steal ? { mode: 'exclusive', steal: true } : { mode: 'exclusive' }
    this.#activating = true
    // Every outcome (opened, failed, superseded, stolen) ends both the progress and the activation.
    const settle = () => {
      clearInterval(progress)
      if (attempt === this.#attempts) this.#activating = false
    }
    const failed = (error: unknown) => {
      if (current()) this.#activateFailed(this.#epoch, error)
    }
    navigator.locks
      .request(this.#init.roleLock, options, async () => {
        if (!current()) {
          settle()
          return // superseded or cancelled while waiting for the lock
        }
        let storage: StorageChoice
        let engine: SqliteEngine
        try {
          let chosen = known ?? (await this.#chosenStorage())
          for (;;) {
            if (chosen instanceof StorageChoiceFailed) throw chosen.error
            storage = chosen
            try {
              engine = await this.#open(storage.kind, urls)
              break
            } catch (error) {
              // Offered but refused for good: with 'auto', the next storage (its reason says why).
              if (!(error instanceof StorageRefusedError) || this.#init.storage !== 'auto') throw error
              this.#log('storage refused: falling back', { storage: storage.kind, error: error.message })
              this.#storage = undefined
              this.#caps = refuse(this.#caps ?? (await probeCapabilities()), storage.kind, error.message)
              chosen = this.#choose(this.#caps)
            }
          }
        } catch (error) {
          settle()
          failed(error)
          return
        }
        settle()
        if (!current()) {
          // Cancelled (deactivate) or superseded (a steal) while it opened: let the files go again.
          this.#log('opened the database too late: closing it again', { attempt })
          await engine.close().catch(() => {})
          return
        }
        this.#engine = engine
        // A statement blocks this worker's event loop, but not its postMessage: it heartbeats from
        // inside SQLite, so a long statement is not a hang. A frozen tab stops SQLite too.
        engine.onProgress = (now) => this.#freshness.beatWhileBusy(now)
        opened = true
        this.#log('opened the database', { epoch: this.#epoch, steal })
        const ledger = (this.#ledger = new OpLedger(engine))
        // Before any tab's statement, but after `activated`: not on the failover's path.
        this.#queue.runNext(() => removeImportLeftover(engine))
        this.#queue.runNext(() =>
          ledger
            .prepare()
            .catch((error: unknown) =>
              this.#log('could not prepare the operation ledger (it is made on first use)', { error: String(error) }),
            ),
        )
        this.#openCount++
        this.#freshness.start()
        this.#toCoordinator({
          t: 'activated',
          v: PROTOCOL_VERSION,
          epoch: this.#epoch,
          hangTimeoutMs: this.#init.hangTimeoutMs,
          storage: storage.kind,
          ...(storage.reason ? { storageReason: storage.reason } : {}),
        })
        // Hold the role for as long as the files are open.
        await new Promise<void>((release) => (this.#releaseRole = release))
      })
      .catch((error: unknown) => {
        settle()
        // Our lock was stolen: a hung-worker verdict was reached about us. Let the files go now.
        if (opened) void this.deactivate({ drain: false })
        else failed(error)
      })
    // After the lock request, which the browser then grants while SQLite loads.
    if (known) SqliteEngine.preload({ storage: known.kind, ...urls })
  }

  #open(storage: StorageKind, urls: { wasmUrl: string; asyncWasmUrl: string }): Promise<SqliteEngine> {
    return SqliteEngine.open({
      storage,
      directory: this.#init.directory,
      filename: this.#init.filename,
      ...urls,
      attempts: this.#init.openAttempts,
      retryDelayMs: this.#init.openRetryDelayMs,
      setup: this.#init.connectionSetup,
      onIo: () => this.#freshness.beatWhileBusy(performance.now()),
    })
  }

  #activateFailed(epoch: number, error: unknown): void {
    this.#toCoordinator({ t: 'activate-failed', v: PROTOCOL_VERSION, epoch, error: serializeError(error) })
  }

  /**
   * Next in line for the role (`on`), or no longer: with `warmStandby`, load and warm SQLite now
   * so a failover to this tab only has to open the files; or let it go again.
   */
  standby(on: boolean): void {
    if (!this.#init.warmStandby || this.#usingModule) return
    if (!on) {
      this.#log('no longer the warm standby')
      SqliteEngine.forget()
      return
    }
    const started = performance.now()
    void (async () => {
      const chosen = await this.#chosenStorage()
      if (chosen instanceof StorageChoiceFailed) return // reported if this tab is ever elected
      // The module's API is not re-entrant across awaits: never rehearse beside a real database.
      if (this.#usingModule) return
      await SqliteEngine.warm({ storage: chosen.kind, wasmUrl: this.#wasmUrl, asyncWasmUrl: this.#asyncWasmUrl })
      this.#log('warm standby ready', { storage: chosen.kind, ms: Math.round(performance.now() - started) })
    })().catch((error: unknown) => this.#log('warm standby failed (a failover will load SQLite then)', { error: String(error) }))
  }

  /** The database is open, being opened (an activation is pending) or being closed. */
  get #usingModule(): boolean {
    return this.#engine !== undefined || this.#leaving !== undefined || this.#activating
  }

  /** The coordinator heard heartbeat `seq`: the role stays fresh until a bound after it was sent. */
  acknowledge(epoch: number, seq: number): void {
    if (epoch === this.#epoch) this.#freshness.acknowledge(seq)
  }

  /**
   * Gives the database up: with `drain`, lets the current lease finish first (bounded by the lease
   * timeout); statements not run are refused so their tabs send them to the next active tab.
   * Then closes the files and lets the role lock go, and tells the coordinator.
   */
  deactivate({ drain, alone = false }: { drain: boolean; alone?: boolean }): Promise<void> {
    // Told to go at once (replaced, or its own give-up) during a hand-off's drain: what the drain
    // waits for may wait on a renewal that will not come, keeping the files from the next holder.
    if (!drain) this.#drainCut = true
    if (alone) this.#alone = true
    this.#leaving ??= this.#leave(drain).finally(() => {
      this.#leaving = undefined
      this.#drainCut = false
    })
    return this.#leaving
  }

  async #leave(drain: boolean): Promise<void> {
    const engine = this.#engine
    const epoch = this.#epoch
    this.#log(engine ? 'giving the database up' : 'cancelling a pending activation', { epoch, drain })
    if (!engine) {
      // Not open (yet): make a pending activation give up when its lock arrives.
      this.#epoch = -1
      this.#alone = false
      return
    }
    if (drain) {
      this.#draining = true
      await this.#queue.drain(this.#init.leaseTimeoutMs, () => this.#drainCut)
      this.#draining = false
    }
    this.#engine = undefined
    this.#ledger = undefined
    this.#freshness.stop()
    const queue = this.#queue
    queue.revokeAll(new NotRun())
    // Not under a statement that is still running (see SqliteEngine.stop): it ends first. Bounded
    // all the same, as a drain is: the files must not stay held by a task that never ends.
    engine.stop()
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([queue.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#init.leaseTimeoutMs)))])
    clearTimeout(timer)
    await engine.rollback().catch(() => {})
    await engine.close().catch(() => {})
    for (const port of this.#ports.values()) {
      // Given up on its own, with no coordinator to tell the tabs: else their next statements
      // would go to a closed line and wait for an answer without end.
      if (this.#alone) port.postMessage({ t: 'gone' } satisfies RouteGone)
      port.close()
    }
    this.#alone = false
    this.#ports.clear()
    this.#subscribers.clear()
    this.#queue = this.#newQueue()
    this.#releaseRole?.()
    this.#releaseRole = undefined
    this.#toCoordinator({ t: 'deactivated', v: PROTOCOL_VERSION, epoch })
  }

  /** A tab's direct line: every request it sends on `port` is served here. */
  attach(epoch: number, tabId: string, port: Line, token: string): void {
    if (epoch !== this.#epoch || !this.#engine) {
      port.close()
      return
    }
    this.#ports.get(tabId)?.close()
    this.#ports.set(tabId, port)
    let verified = false
    port.onmessage = (event) => {
      const request = parseClientRequest(event.data)
      if (!request) {
        this.#log('dropped a malformed request', { tabId, data: event.data })
      } else if (request.t === 'hello') {
        verified ||= request.token === token
        if (!verified) this.#log('refused a port whose token does not match', { tabId })
      } else if (verified) {
        this.#handle(tabId, port, request)
      } else {
        this.#log('dropped a request on a port not yet verified', { tabId })
      }
    }
  }

  /** The coordinator saw the tab die: roll back its transaction, free its lease, drop its port. */
  detach(tabId: string): void {
    this.#subscribers.delete(tabId)
    this.#queue.revokeTab(tabId, new ActiveTabLostError(`Tab ${tabId} is gone`))
    this.#ports.get(tabId)?.close()
    this.#ports.delete(tabId)
  }

  #newQueue(): LeaseQueue {
    const init = this.#init
    return new LeaseQueue({
      idleTimeoutMs: init.leaseTimeoutMs,
      timeoutError: (lease, waiting) =>
        waiting.every((w) => w.tabId === lease.tabId)
          ? new LeaseTimeoutError(
              `This tab held the connection idle for over ${init.leaseTimeoutMs} ms while only its own other queries waited; ` +
                'its transaction was rolled back. Usually the transaction was waiting for one of them, a deadlock a retry ' +
                'repeats: inside db.transaction(), db.connection() or a migration, query through the trx (or db) you are ' +
                'given, not the outer db',
              { retryable: false },
            )
          : new LeaseTimeoutError(
              `Tab ${lease.tabId} held the connection idle for over ${init.leaseTimeoutMs} ms while others waited; its transaction was rolled back`,
            ),
      onRevoke: async () => {
        this.#stats.revokedLeases++
        await this.#engine?.rollback().catch(() => {})
      },
      // A scope that ended with a transaction open (a raw BEGIN outside db.transaction() and
      // db.connection()) must not hand it to the next lease, perhaps another tab's, whose writes
      // would then commit or roll back with it.
      mayYield: () => this.#engine?.inTransaction === false,
      onRelease: (lease) => {
        const engine = this.#engine
        if (!engine?.inTransaction) return undefined
        return async () => {
          this.#log('rolled back a transaction its connection scope left open', { tabId: lease.tabId, lease: lease.lease })
          await engine.rollback().catch(() => {})
        }
      },
    })
  }

  /**
   * Resolves true when the role is fresh (at once, or after the coordinator acknowledges a new
   * heartbeat), false when this worker lost the role (it is then letting the files go).
   */
  #fresh(): Promise<boolean> {
    if (!this.#engine) return Promise.resolve(false)
    return this.#freshness.renew()
  }

  #handle(tabId: string, port: Line, request: Exclude<ClientRequest, { t: 'hello' }>): void {
    if (request.t === 'withdraw') {
      this.#queue.withdraw({ tabId, lease: request.lease })
      return
    }
    if (request.t === 'subscribe') {
      if (request.on) this.#subscribers.add(tabId)
      else this.#subscribers.delete(tabId)
      return
    }
    const released = request.t === 'release' ? request.leases : request.releases
    if (released) for (const lease of released) this.#queue.release({ tabId, lease })
    if (request.t === 'release') return
    // A tab's operation ids are its own (see request-router.ts): the line it came on says whose.
    // One naming another tab could record that tab's next write as done, or read its result.
    if (request.op !== undefined && !request.op.startsWith(`${tabId}:`)) {
      const error = new ProtocolError(`Operation id ${JSON.stringify(request.op)} is not one of this tab's (${tabId})`)
      reply(port, { t: 'error', id: request.id, error: serializeError(error) })
      return
    }
    if (!this.#engine || (this.#leaving && !this.#holdsConnection(tabId, request.lease))) {
      reply(port, { t: 'refused', id: request.id })
      return
    }
    // A statement usually runs within enqueue(), having waited for nothing: the clock is read
    // only for one that queued (performance.now() costs about 0.5 µs in Chromium 156).
    let started = false
    let queuedAt = -1
    this.#queue.enqueue(
      { tabId, lease: request.lease },
      () => {
        started = true
        if (queuedAt >= 0) {
          const waited = performance.now() - queuedAt
          if (waited > 1) {
            this.#stats.leaseWaits++
            this.#stats.leaseWaitMs += waited
          }
        }
        const ran = this.#exec(port, request)
        // A retried COMMIT ran here under its lease, though its transaction died with the holder
        // before: nothing more of that lease comes here (the tab's release goes to that holder).
        return request.commit && request.retry ? ran.then(() => this.#queue.release({ tabId, lease: request.lease })) : ran
      },
      (error: Error) =>
        reply(
          port,
          error instanceof NotRun
            ? { t: 'refused', id: request.id }
            : { t: 'error', id: request.id, error: serializeError(error) },
        ),
    )
    if (!started) queuedAt = performance.now()
  }

  /** While draining, the lease that holds the connection may still finish its work. */
  #holdsConnection(tabId: string, lease: number): boolean {
    if (!this.#draining) return false
    const holder = this.#queue.holder
    return holder?.tabId === tabId && holder.lease === lease
  }

  #exec(port: Line, request: ExecRequest): Promise<void> {
    // Checked right before running: the worker may have stalled while this waited. Fresh is the
    // common case, and it is checked without a Promise of its own.
    const engine = this.#engine
    if (engine && this.#freshness.fresh) return this.#run(port, request, engine)
    return this.#fresh().then((fresh) => {
      const engine = this.#engine
      if (!fresh || !engine) return reply(port, { t: 'refused', id: request.id })
      return this.#run(port, request, engine)
    })
  }

  async #run(port: Line, request: ExecRequest, engine: SqliteEngine): Promise<void> {
    this.#stats.statements++
    try {
      if (request.admin) {
        reply(port, { t: 'result', id: request.id, ...(await this.#admin(engine, request)) })
        return
      }
      engine.startRequest(request.timeoutMs ?? this.#init.statementTimeoutMs)
      if (request.describe) {
        const { reads, writes } = await engine.describe(request.sql)
        reply(port, { t: 'result', id: request.id, reads: [...reads], writes: [...writes] })
        return
      }
      const retry = request.retry === true
      const result = !request.op
        ? await engine.exec(request.sql, request.params)
        : request.commit
          ? await this.#ledger!.commit(request.op, retry)
          : await this.#ledger!.run(request.op, request.sql, request.params, retry)
      const message: Mutable<ExecResult> = { t: 'result', id: request.id, ...result }
      if (engine.inTransaction) message.tx = true
      reply(port, message)
    } catch (error) {
      if (engine.stopped) {
        // This worker is giving the files up. A read, or a statement of a transaction (which dies
        // with the engine), may go to the next holder. A write outside one may have been partly
        // applied (a script's first statements, a COMMIT interrupted after it committed): its
        // outcome is not known.
        if (!request.op && !request.commit && !request.admin) {
          reply(port, { t: 'refused', id: request.id })
        } else {
          const unknown = new WriteOutcomeUnknownError(
            `The active tab gave the database up while this write ran; it may or may not have been applied (${(error as Error)?.message ?? error})`,
          )
          reply(port, { t: 'error', id: request.id, error: serializeError(unknown) })
        }
        return
      }
      const name = (error as Error)?.name ?? 'Error'
      this.#stats.errors[name] = (this.#stats.errors[name] ?? 0) + 1
      const message: Mutable<ExecError> = { t: 'error', id: request.id, error: serializeError(error) }
      if (engine.inTransaction) message.tx = true
      reply(port, message)
    } finally {
      engine.endRequest()
      this.#publishChanges(engine)
    }
  }

  async #admin(engine: SqliteEngine, request: ExecRequest): Promise<Partial<ExecResult>> {
    switch (request.admin) {
      case 'export':
        return { file: await exportDatabase(engine, this.#init.filename) }
      case 'import':
        await importDatabase(engine, request.params[0] as Uint8Array)
        return {}
      case 'empty':
        await emptyDatabase(engine)
        return {}
      case 'check':
        return { check: await checkDatabase(engine) }
      default:
        return {
          stats: {
            ...this.#stats,
            errors: { ...this.#stats.errors },
            queueDepth: this.#queue.depth,
            tabs: this.#ports.size,
            sinceHeartbeatMs: Math.round(this.#freshness.sinceAckMs),
          },
        }
    }
  }

  /** After a commit (never before, never for a rollback): tell the subscribed tabs, the writer too. */
  #publishChanges(engine: SqliteEngine): void {
    if (!engine.hasCommittedWrites) return
    const { tables, schema } = engine.takeCommittedWrites()
    if (this.#subscribers.size === 0) return
    const message: WorkerReply = schema ? { t: 'changes', tables: [...tables], schema } : { t: 'changes', tables: [...tables] }
    for (const tabId of this.#subscribers) this.#ports.get(tabId)?.postMessage(message)
  }
}

function reply(port: Line, message: WorkerReply): void {
  port.postMessage(message)
}
