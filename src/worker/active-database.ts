/**
 * This worker's part in the role: becoming the active worker, serving, and giving the database up,
 * through the phases of role-state.ts. The statements themselves are served by statement-server.ts.
 *
 * Becoming active means: take the role Web Lock, then open the OPFS files (database-opener.ts).
 * The lock is held until the files are closed again, and the browser drops it if this worker dies.
 * The files themselves admit one holder (a second `createSyncAccessHandle` fails). A worker that
 * steals the lock from a hung holder which keeps them (a frozen tab) copies them away from it and
 * serves the copy (see pool-generations.ts): what the hung holder writes when it wakes lands in
 * files no one reads again.
 *
 * Fencing a hung holder: the worker runs a statement only while its role is fresh (see
 * role-freshness.ts). A worker that stalled (a busy loop, a frozen tab) asks again before running
 * anything, and before it answers a statement that ran while it stalled: if the coordinator still
 * has it as the active tab it carries on; if another tab was elected meanwhile, it refuses the
 * work that queued up (those tabs resend it to the new active tab), keeps the answers of what
 * ran (their tabs take those as lost with their holder), and closes the files.
 */
import { ActiveTabLostError, HandoffError, serializeError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, type StorageKind } from '../protocol/message-fields.js'
import type { WorkerToCoordinator } from '../protocol/worker-control-messages.js'
import type { InitMessage } from '../protocol/own-worker-messages.js'
import { silent, type DebugLog } from '../protocol/debug-log.js'
import { StatementServer } from './statement-server.js'
import { OpLedger } from './op-ledger.js'
import { removeImportLeftover } from './database-file.js'
import { SqliteEngine } from './sqlite-engine.js'
import { HEARTBEATS_PER_BOUND, RoleFreshness } from './role-freshness.js'
import { RoleStateMachine } from './role-state.js'
import type { StorageChoice } from './storage-choice.js'
import { DatabaseOpener, StorageChoiceFailed } from './database-opener.js'
import type { Line } from '../protocol/line.js'

/**
 * The longest gap between heartbeats while acquiring the role, whatever `hangTimeoutMs` is: the
 * coordinator gives an election up after 60 s of silence (ELECTION_SILENCE_MS in coordinator.ts).
 */
const ACQUIRING_BEAT_MS = 1000

export class ActiveDatabase {
  readonly #init: InitMessage
  readonly #opener: DatabaseOpener
  readonly #toCoordinator: (message: WorkerToCoordinator) => void
  readonly #server: StatementServer
  #engine: SqliteEngine | undefined
  #ledger: OpLedger | undefined
  #epoch = 0
  #releaseRole: (() => void) | undefined
  #openCount = 0
  /** Where the role is in its lifecycle (see role-state.ts). */
  readonly #role = new RoleStateMachine()
  /** Lock requests made by activations; only the latest may open the files. */
  #attempts = 0
  /** Whether this worker may still serve (heartbeats, fencing). */
  readonly #freshness: RoleFreshness
  /** The deactivation under way (see deactivate()). */
  #leaving: Promise<void> | undefined
  /** The worker gives the database up on its own (no coordinator answers): it tells the tabs. */
  #alone = false
  /** A deactivate without drain came during a drain: stop waiting. */
  #drainCut = false
  /**
   * Told to go without a drain (replaced, superseded, or its own give-up): another tab may serve
   * files copied away from this worker's, so an answer of a statement that ran while the role was
   * not fresh is kept (see StatementServer).
   */
  #replaced = false
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
    this.#opener = new DatabaseOpener(init, { wasmUrl, asyncWasmUrl }, log, () =>
      this.#freshness.beatWhileBusy(performance.now()),
    )
    this.#toCoordinator = toCoordinator
    const role = this
    this.#server = new StatementServer(
      init,
      {
        get engine() {
          return role.#engine
        },
        get ledger() {
          return role.#ledger
        },
        get leaving() {
          return role.#role.leaving
        },
        get draining() {
          return role.#role.state === 'draining'
        },
        get freshness() {
          return role.#freshness
        },
        get replaced() {
          return role.#replaced
        },
      },
      log,
    )
    this.#freshness = new RoleFreshness({
      hangTimeoutMs: init.hangTimeoutMs,
      send: (seq) => this.#toCoordinator({ t: 'heartbeat', v: PROTOCOL_VERSION, epoch: this.#epoch, seq }),
      onLost: () => void this.deactivate({ drain: false, alone: true }),
    })
  }

  get active(): boolean {
    return this.#engine !== undefined
  }

  /** The election this worker last took part in. */
  get epoch(): number {
    return this.#epoch
  }

  get openCount(): number {
    return this.#openCount
  }

  get attachedTabs(): number {
    return this.#server.attachedTabs
  }

  get subscribers(): number {
    return this.#server.subscribers
  }

  /**
   * Takes the role lock and opens the files, then reports `activated` for `epoch`. Reports
   * `activate-failed` (releasing the lock) if the files cannot be opened within the bounded retries.
   */
  activate(epoch: number, steal: boolean, sentAt = Date.now()): void {
    const state = this.#role.state
    if (steal && !this.#engine && Date.now() - sentAt > this.#init.hangTimeoutMs) {
      // Sent before this worker stalled (or froze) and read only now: the coordinator has elected
      // again since, and a steal would take the role lock from the worker it elected.
      this.#activateFailed(epoch, new HandoffError('This election reached a worker that was stalled; it is stale'))
      return
    }
    if (state === 'serving') {
      this.#epoch = epoch
      this.#serveAgain(epoch, this.#engine!)
      return
    }
    if (this.#role.leaving) {
      this.#activateFailed(epoch, new ActiveTabLostError('This worker is still giving the database up'))
      return
    }
    this.#epoch = epoch
    // One activation at a time. A newer election of this worker while one is under way (a
    // restarted coordinator's) is taken over by it, and it reports the newest epoch: a second
    // request would queue behind our own lock, and the first would report an epoch gone stale.
    // Only a steal (the lock is held by a hung worker) needs a request of its own.
    if (state !== 'idle' && !steal) {
      if (state === 'abandoned') this.#role.to('acquiring')
      return
    }
    // Fetch and compile the wasm while waiting for the role lock, not after (once the storage is known).
    const known = this.#opener.known()
    if (known instanceof StorageChoiceFailed) {
      this.#activateFailed(epoch, known.error)
      return
    }
    this.#role.to('acquiring')
    this.#acquire(++this.#attempts, steal, sentAt, known)
    // After the lock request, which the browser then grants while SQLite loads.
    if (known) this.#opener.preload(known)
  }

  /**
   * One activation attempt: the role lock, then the files. Only the latest attempt moves the role
   * state; it is current while it is also not abandoned, and only a current attempt reports.
   */
  #acquire(attempt: number, steal: boolean, sentAt: number, known: StorageChoice | undefined): void {
    const latest = () => attempt === this.#attempts
    const current = () => latest() && this.#role.state === 'acquiring'
    let opened = false
    // Progress while waiting for the lock and opening: the coordinator elects another if we go
    // silent. Silent, not stopped, while abandoned: a later election may take this attempt over.
    const progress = setInterval(
      () => {
        if (!latest()) clearInterval(progress)
        else if (current()) this.#toCoordinator({ t: 'heartbeat', v: PROTOCOL_VERSION, epoch: this.#epoch, seq: 0 })
      },
      Math.min(this.#init.hangTimeoutMs / HEARTBEATS_PER_BOUND, ACQUIRING_BEAT_MS),
    )
    /**
     * The attempt ends without the files (a stolen lock's rejection may come while it opens them,
     * so this may run twice); a current one says why.
     */
    const ended = (error?: unknown) => {
      clearInterval(progress)
      const report = current()
      const state = this.#role.state
      if (latest() && (state === 'acquiring' || state === 'abandoned')) this.#role.to('idle')
      if (report) this.#activateFailed(this.#epoch, error)
    }
    const options: LockOptions = steal ? { mode: 'exclusive', steal: true } : { mode: 'exclusive' }
    navigator.locks
      .request(this.#init.roleLock, options, async () => {
        // Abandoned or superseded while it waited for the lock: let it go at once.
        if (!current()) return ended()
        let opening: { storage: StorageChoice; engine: SqliteEngine }
        try {
          // Taken from a hung holder, which may keep the files (a frozen tab): the opener may copy
          // them away from it, and stops if this attempt stops being current meanwhile.
          const taker = steal
            ? { election: { epoch: this.#epoch, at: sentAt }, current, silentMs: this.#init.hangTimeoutMs }
            : undefined
          opening = await this.#opener.open(known, taker)
        } catch (error) {
          return ended(error)
        }
        clearInterval(progress)
        if (!current()) {
          // Abandoned (deactivate) or superseded (a steal) while it opened: let the files go again.
          this.#log('opened the database too late: closing it again', { attempt })
          ended()
          await opening.engine.close().catch(() => {})
          return
        }
        opened = true // from here on, any failure lets the files go (deactivate)
        this.#serve(opening.engine, opening.storage, steal)
        // Hold the role for as long as the files are open.
        await new Promise<void>((release) => (this.#releaseRole = release))
      })
      .catch((error: unknown) => {
        // Our lock was stolen: a hung-worker verdict was reached about us. Let the files go now.
        if (opened) void this.deactivate({ drain: false })
        else ended(error)
      })
  }

  /** The files are open for the current epoch: serve them, and say so. */
  #serve(engine: SqliteEngine, storage: StorageChoice, steal: boolean): void {
    this.#role.to('serving')
    this.#engine = engine
    // A statement blocks this worker's event loop, but not its postMessage: it heartbeats from
    // inside SQLite, so a long statement is not a hang. A frozen tab stops SQLite too.
    engine.onProgress = (now) => this.#freshness.beatWhileBusy(now)
    this.#log('opened the database', { epoch: this.#epoch, steal })
    const ledger = (this.#ledger = new OpLedger(engine))
    // Before any tab's statement, but after `activated`: not on the failover's path.
    this.#server.runFirst(() => removeImportLeftover(engine))
    this.#server.runFirst(() =>
      ledger
        .prepare()
        .catch((error: unknown) =>
          this.#log('could not prepare the operation ledger (it is made on first use)', { error: String(error) }),
        ),
    )
    this.#openCount++
    this.#replaced = false
    this.#freshness.start()
    this.#reportActivated(storage.kind, storage.reason)
    engine.pruneCopies(() => this.#engine === engine)
  }

  /**
   * A restarted coordinator re-elected the holder: keep the files, take the new epoch, unless
   * another tab took them over (copied them away) while this worker stalled. The tabs get new
   * lines and treat open transactions as lost, so roll those back here too.
   */
  #serveAgain(epoch: number, engine: SqliteEngine): void {
    void engine.stillLive().then(
      (live) => {
        if (this.#epoch !== epoch || this.#engine !== engine) return
        if (!live) {
          this.#activateFailed(epoch, new HandoffError('Another tab took the database files over while this worker stalled'))
          void this.deactivate({ drain: false })
          return
        }
        this.#server.forgetTabs()
        this.#freshness.start()
        this.#reportActivated(engine.storage, this.#opener.reason)
      },
      (error: unknown) => {
        if (this.#epoch !== epoch || this.#engine !== engine) return
        this.#activateFailed(epoch, error)
        void this.deactivate({ drain: false })
      },
    )
  }

  #reportActivated(storage: StorageKind, reason: string | undefined): void {
    this.#toCoordinator({
      t: 'activated',
      v: PROTOCOL_VERSION,
      epoch: this.#epoch,
      hangTimeoutMs: this.#init.hangTimeoutMs,
      storage,
      ...(reason ? { storageReason: reason } : {}),
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
      this.#opener.forget()
      return
    }
    const started = performance.now()
    this.#opener
      .warm(() => this.#usingModule)
      .then((storage) => storage && this.#log('warm standby ready', { storage, ms: Math.round(performance.now() - started) }))
      .catch((error: unknown) => this.#log('warm standby failed (a failover will load SQLite then)', { error: String(error) }))
  }

  /** The database is open, being opened (an activation is pending) or being closed. */
  get #usingModule(): boolean {
    return this.#role.busy
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
    if (!drain) {
      this.#drainCut = true
      this.#replaced = true
    }
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
      // Not open (yet): a pending activation gives up when its lock arrives.
      if (this.#role.state === 'acquiring') this.#role.to('abandoned')
      this.#alone = false
      return
    }
    if (drain) {
      this.#role.to('draining')
      await this.#server.drain(this.#init.leaseTimeoutMs, () => this.#drainCut)
    }
    this.#role.to('closing')
    this.#engine = undefined
    this.#ledger = undefined
    this.#freshness.stop()
    // Not under a statement that is still running (see SqliteEngine.stop): it ends first. Bounded
    // all the same, as a drain is: the files must not stay held by a task that never ends.
    const stopped = this.#server.stop(this.#init.leaseTimeoutMs)
    engine.stop()
    await stopped
    await engine.rollback().catch(() => {})
    await engine.close().catch(() => {})
    // Given up on its own, with no coordinator to tell the tabs: they hear it from this worker.
    this.#server.closeLines({ gone: this.#alone })
    this.#alone = false
    this.#releaseRole?.()
    this.#releaseRole = undefined
    this.#role.to('idle')
    this.#toCoordinator({ t: 'deactivated', v: PROTOCOL_VERSION, epoch })
  }

  /** A tab's direct line: every request it sends on `port` is served here. */
  attach(epoch: number, tabId: string, port: Line, token: string): void {
    if (epoch !== this.#epoch || !this.#engine) port.close()
    else this.#server.attach(tabId, port, token)
  }

  /** The coordinator saw the tab die: roll back its transaction, free its lease, drop its port. */
  detach(tabId: string): void {
    this.#server.detach(tabId)
  }
}
