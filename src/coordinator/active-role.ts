/**
 * The active role: what the worker elected or serving reports, and how the role changes hands.
 * The registry says who holds the role and at which epoch; the elector (elector.ts) sends the
 * elections; this decides when the role is vacant and whom to prefer, and tells the tabs
 * (through the line table) when their routes are lost or new.
 *
 * - A hung active tab is seen by its worker's missed heartbeats (`hangTimeoutMs`): the role goes
 *   to another tab, which steals the role lock, and the hung tab is told to terminate its worker,
 *   which frees the files. A frozen tab cannot: the next holder copies the files away from it
 *   (see worker/pool-generations.ts).
 * - Manual hand-off: the active worker finishes its current lease, closes the files and reports
 *   `deactivated`; then the requested tab is elected.
 */
import { ActiveTabLostError, HandoffError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, type HandoffReason } from '../protocol/message-fields.js'
import type { JoinMessage } from '../protocol/coordinator-messages.js'
import {
  parseWorkerToCoordinator,
  type ActivatedMessage,
  type ActivateFailedMessage,
  type HeartbeatMessage,
  type WorkerToCoordinator,
} from '../protocol/worker-control-messages.js'
import type { Line } from '../protocol/line.js'
import type { Candidates } from './candidates.js'
import { Elector, type ElectionSetup } from './elector.js'
import { HeartbeatWatch } from './heartbeat-watch.js'
import type { LineTable } from './line-table.js'
import type { TabRegistry } from './tab-registry.js'
import { sendTab, sendWorker, type Route } from './wire.js'

/** Activation failures that clear up by themselves (busy files, a lock wait cut short, a worker still leaving). */
const RETRY_ELECTION = new Set([HandoffError.name, 'AbortError', ActiveTabLostError.name])

export interface RoleSetup extends ElectionSetup {
  /** Who is active changed (the role is served, by whom). */
  readonly lineUpChanged: () => void
  /** The role is served and no hand-off is pending: it may follow the user. */
  readonly followVisibility: () => void
}

export class ActiveRole {
  readonly #setup: RoleSetup
  readonly #registry: TabRegistry
  readonly #candidates: Candidates
  readonly #lines: LineTable
  /** The elected or active worker must show progress (see #workerSilent). */
  readonly #heartbeats: HeartbeatWatch
  readonly #elector: Elector
  /** The tab being elected asked to step down before it had opened the database. */
  #stepDownAsked: string | undefined
  #reason: HandoffReason = 'elected'
  /** Where the active worker opened the database (sent with every route). */
  #storage: Route['storage'] = { storage: 'opfs-sahpool' }

  constructor(setup: RoleSetup) {
    this.#setup = setup
    this.#registry = setup.registry
    this.#candidates = setup.candidates
    this.#lines = setup.lines
    this.#heartbeats = new HeartbeatWatch(setup.env, () => this.#workerSilent())
    this.#elector = new Elector(setup, this.#heartbeats)
  }

  /** An election or a hand-off is under way. */
  get handingOff(): boolean {
    return Boolean(this.#elector.preferred || this.#stepDownAsked)
  }

  /** Takes what `port`, the worker of `tabId`, reports, while it is the tab's worker. */
  listen(tabId: string, port: Line): void {
    port.onmessage = (event) => {
      const message = parseWorkerToCoordinator(event.data)
      if (message && this.#lines.get(tabId)?.worker === port) this.#onWorkerMessage(tabId, message)
    }
  }

  /** A line from `tabId` to the active worker, naming the reason of the last change of hands. */
  broker(tabId: string, reason: HandoffReason = this.#reason): void {
    this.#lines.broker(tabId, reason, this.#storage)
  }

  /** A tab joined while the role is not served. */
  joined(join: JoinMessage): void {
    this.#elector.joined(join)
  }

  elect(): void {
    this.#elector.elect()
  }

  /**
   * The active tab came again on new lines: its worker keeps the files; a new election (to it)
   * gives every tab a fresh line.
   */
  electAgain(tabId: string): void {
    this.#registry.abandon(tabId, this.#registry.epoch)
    this.#elector.prefer(tabId)
    this.vacated('failed')
  }

  /** The active tab's worker was terminated: its election or service ends here. */
  abandon(tabId: string): void {
    this.#registry.abandon(tabId, this.#registry.epoch)
    this.#heartbeats.stop()
  }

  /** The tab is gone: it is no longer preferred, nor asked to step down. */
  forget(tabId: string): void {
    if (this.#elector.preferred === tabId) this.#elector.prefer(undefined)
    if (this.#stepDownAsked === tabId) this.#stepDownAsked = undefined
  }

  /** The active role is vacant: tell every tab, then elect. */
  vacated(reason: HandoffReason): void {
    this.#setup.log('the active role is vacant', { reason, epoch: this.#registry.epoch })
    this.#heartbeats.stop()
    this.#reason = reason
    this.#lines.routeLost(reason)
    this.#elector.elect()
  }

  handoff(tabId: string, action: 'claim' | 'release', reason: HandoffReason = 'manual'): void {
    const active = this.#registry.active
    if (action === 'claim') {
      this.#candidates.claimed(tabId, reason === 'manual')
      if (this.#stepDownAsked === tabId) this.#stepDownAsked = undefined
      if (active === tabId) return
      this.#elector.prefer(tabId)
    } else {
      // With no other tab, the role comes straight back: a cheap close and reopen.
      if (active && active !== tabId) return
      this.#candidates.steppedDown(tabId)
      // Not serving yet (opening, or no election yet, e.g. a restarted coordinator that may take
      // it over as the holder): it steps down once it reports, if it is the one (see 'activated').
      if (!active || !this.#registry.ready) this.#stepDownAsked = tabId
    }
    if (!active) {
      this.#elector.elect()
    } else if (this.#registry.ready) {
      this.#reason = reason
      sendWorker(this.#lines.get(active)!.worker, {
        t: 'deactivate',
        v: PROTOCOL_VERSION,
        epoch: this.#registry.epoch,
        drain: true,
      })
    }
    // (Still opening: the hand-off happens when it reports, see 'activated'.)
  }

  #onWorkerMessage(tabId: string, message: WorkerToCoordinator): void {
    switch (message.t) {
      case 'activated':
        return this.#activated(tabId, message)
      case 'heartbeat':
        return this.#heartbeat(tabId, message)
      case 'deactivated':
        if (this.#current(tabId, message.epoch) && this.#registry.abandon(tabId, message.epoch))
          this.vacated(this.#reason === 'manual' || this.#reason === 'hidden' ? this.#reason : 'failed')
        return
      case 'activate-failed':
        return this.#activateFailed(tabId, message)
    }
  }

  #current(tabId: string, epoch: number): boolean {
    return this.#registry.active === tabId && this.#registry.epoch === epoch
  }

  #activated(tabId: string, message: ActivatedMessage): void {
    if (!this.#registry.markReady(tabId, message.epoch)) {
      // A stale activation (superseded while it waited): it must let the files go.
      this.#deactivate(tabId, message.epoch)
      return
    }
    this.#candidates.served(tabId)
    this.#elector.served()
    this.#storage = { storage: message.storage, ...(message.storageReason ? { storageReason: message.storageReason } : {}) }
    this.#heartbeats.start(message.hangTimeoutMs)
    const reason = this.#reason
    for (const id of this.#registry.tabIds()) this.broker(id, reason)
    // Told: tabs that join from now on, or a later vacancy not asked for, are not this hand-off.
    this.#reason = 'elected'
    this.#setup.lineUpChanged()
    // A hand-off was asked for while this tab was still opening the database.
    const stepDown = this.#stepDownAsked
    this.#stepDownAsked = undefined
    const preferred = this.#elector.preferred
    if (preferred && preferred !== tabId) this.handoff(preferred, 'claim')
    else if (stepDown === tabId) this.handoff(tabId, 'release')
    else this.#setup.followVisibility()
  }

  #heartbeat(tabId: string, message: HeartbeatMessage): void {
    const registry = this.#registry
    const current = this.#current(tabId, message.epoch)
    if (current && !registry.ready) {
      this.#heartbeats.beat() // still opening, and alive
    } else if (current) {
      this.#heartbeats.beat()
      sendWorker(this.#lines.get(tabId)!.worker, { t: 'ack', v: PROTOCOL_VERSION, epoch: message.epoch, seq: message.seq })
    } else if (!registry.active && message.epoch >= registry.epoch) {
      // It has the files from an election of a coordinator that died since: it keeps them.
      registry.observeEpoch(message.epoch)
      this.#elector.holderClaimed(tabId)
      this.#elector.elect()
    } else {
      // A worker that was replaced while it stalled: it must not serve, and must let the files go.
      this.#deactivate(tabId, message.epoch)
    }
  }

  #activateFailed(tabId: string, message: ActivateFailedMessage): void {
    if (!this.#registry.abandon(tabId, message.epoch)) return
    this.#candidates.couldNotOpen(tabId)
    if (RETRY_ELECTION.has(message.error.name)) {
      this.#elector.retrySoon()
    } else if (this.#candidates.untried(this.#registry)) {
      // Another open tab may manage (it may differ, e.g. in its wasmUrl): each tries once
      // before every tab is told.
      this.#elector.elect()
    } else {
      // No tab can open the database (e.g. no OPFS): every tab's requests fail with the reason.
      this.#lines.routeLost('failed', message.error)
    }
  }

  /** A worker that was superseded or replaced lets the files go without draining (see `drain`). */
  #deactivate(tabId: string, epoch: number): void {
    const lines = this.#lines.get(tabId)
    if (lines) sendWorker(lines.worker, { t: 'deactivate', v: PROTOCOL_VERSION, epoch })
  }

  /** The worker elected or serving showed no progress for its bound. */
  #workerSilent(): void {
    const active = this.#registry.active
    if (!active) return
    if (!this.#registry.ready) {
      // Elected but silent while opening (a stalled or bogus worker): cancel it, elect another,
      // which steals the role lock in case the silent one holds it (a holder elected again by a
      // restarted coordinator, and frozen since).
      const epoch = this.#registry.epoch
      this.#registry.abandon(active, epoch)
      this.#deactivate(active, epoch)
      this.#candidates.silentWhenElected(active)
      this.#elector.stealNext()
      this.#elector.elect()
      return
    }
    // Hung: the tab (if its main thread still runs) terminates its worker, freeing the files.
    const lines = this.#lines.get(active)
    if (lines) sendTab(lines.tab, { t: 'fence', v: PROTOCOL_VERSION })
    this.#registry.abandon(active, this.#registry.epoch)
    this.#candidates.hung(active)
    this.#elector.stealNext()
    this.vacated('hung')
  }
}
