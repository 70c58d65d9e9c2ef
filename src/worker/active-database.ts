/**
 * This worker's part in the role: becoming the active worker (the role Web Lock, then the OPFS
 * files: role-acquisition.ts), serving, and giving the database up, through the phases of
 * role-state.ts. The statements themselves are served by statement-server.ts.
 *
 * Fencing a hung holder: the worker runs a statement only while its role is fresh (see
 * role-freshness.ts). A worker that stalled (a busy loop, a frozen tab) asks again before running
 * anything, and before it answers a statement that ran while it stalled: if the coordinator still
 * has it as the active tab it carries on; if another tab was elected meanwhile, it refuses the
 * work that queued up (those tabs resend it to the new active tab), keeps the answers of what
 * ran (their tabs take those as lost with their holder), and closes the files.
 */
import { ActiveTabLostError, HandoffError } from '../protocol/errors.js'
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import type { WorkerToCoordinator } from '../protocol/worker-control-messages.js'
import type { InitMessage } from '../protocol/own-worker-messages.js'
import { silent, type DebugLog } from '../protocol/debug-log.js'
import { StatementServer } from './statement-server.js'
import { OpLedger } from './op-ledger.js'
import { removeImportLeftover } from './database-file.js'
import { SqliteEngine } from './sqlite-engine.js'
import { RoleFreshness } from './role-freshness.js'
import { RoleStateMachine } from './role-state.js'
import type { StorageChoice } from './storage-choice.js'
import { DatabaseOpener } from './database-opener.js'
import { RoleAcquisition } from './role-acquisition.js'
import { RoleReports } from './role-reports.js'
import { WarmStandby } from './warm-standby.js'
import type { Line } from '../protocol/line.js'

export class ActiveDatabase {
  readonly #init: InitMessage
  readonly #opener: DatabaseOpener
  readonly #reports: RoleReports
  readonly #server: StatementServer
  #engine: SqliteEngine | undefined
  #ledger: OpLedger | undefined
  #epoch = 0
  #openCount = 0
  /** Where the role is in its lifecycle (see role-state.ts). */
  readonly #role = new RoleStateMachine()
  /** The role lock, then the files: one attempt per activation. */
  readonly #acquisition: RoleAcquisition
  readonly #standby: WarmStandby
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
  /** The browser's locks, clocks and timers (a test's fakes in unit tests). */
  readonly #env: BrowserEnv

  constructor(
    init: InitMessage,
    wasmUrl: string,
    asyncWasmUrl: string,
    toCoordinator: (message: WorkerToCoordinator) => void,
    log: DebugLog = silent,
    env: BrowserEnv = browserEnv(),
  ) {
    this.#init = init
    this.#log = log
    this.#env = env
    this.#opener = new DatabaseOpener(init, { wasmUrl, asyncWasmUrl }, log, () => this.#freshness.beatWhileBusy(env.now()))
    const reports = (this.#reports = new RoleReports(toCoordinator, init.hangTimeoutMs))
    const role = this
    this.#freshness = new RoleFreshness(
      {
        hangTimeoutMs: init.hangTimeoutMs,
        send: (seq) => reports.heartbeat(this.#epoch, seq),
        onLost: () => void this.deactivate({ drain: false, alone: true }),
      },
      env,
    )
    this.#acquisition = new RoleAcquisition(init, this.#role, this.#opener, reports, log, env, {
      get epoch() {
        return role.#epoch
      },
      serve: (engine, storage, steal) => this.#serve(engine, storage, steal),
      lost: () => void this.deactivate({ drain: false }),
    })
    this.#standby = new WarmStandby(init.warmStandby, this.#opener, () => this.#role.busy, log)
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
        freshness: this.#freshness,
        get replaced() {
          return role.#replaced
        },
      },
      log,
    )
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
  activate(epoch: number, steal: boolean, sentAt = this.#env.wallClock()): void {
    const state = this.#role.state
    if (steal && !this.#engine && this.#env.wallClock() - sentAt > this.#init.hangTimeoutMs) {
      // Sent before this worker stalled (or froze) and read only now: the coordinator has elected
      // again since, and a steal would take the role lock from the worker it elected.
      this.#reports.activateFailed(epoch, new HandoffError('This election reached a worker that was stalled; it is stale'))
      return
    }
    if (state === 'serving') {
      this.#epoch = epoch
      this.#serveAgain(epoch, this.#engine!)
      return
    }
    if (this.#role.leaving) {
      this.#reports.activateFailed(epoch, new ActiveTabLostError('This worker is still giving the database up'))
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
    this.#acquisition.start(epoch, steal, sentAt)
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
    this.#reports.activated(this.#epoch, storage.kind, storage.reason)
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
          this.#reports.activateFailed(
            epoch,
            new HandoffError('Another tab took the database files over while this worker stalled'),
          )
          void this.deactivate({ drain: false })
          return
        }
        this.#server.forgetTabs()
        this.#freshness.start()
        this.#reports.activated(this.#epoch, engine.storage, this.#opener.reason)
      },
      (error: unknown) => {
        if (this.#epoch !== epoch || this.#engine !== engine) return
        this.#reports.activateFailed(epoch, error)
        void this.deactivate({ drain: false })
      },
    )
  }

  /** Next in line for the role (`on`), or no longer (see warm-standby.ts). */
  standby(on: boolean): void {
    this.#standby.set(on)
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
    this.#acquisition.release()
    this.#role.to('idle')
    this.#reports.deactivated(epoch)
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
