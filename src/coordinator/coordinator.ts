/**
 * The coordinator: tracks the live tabs of one database, elects the active one and brokers a
 * direct MessageChannel from every tab to the active tab's worker. It is on the control path
 * only; no query passes through it.
 *
 * - A tab's death is seen at once: each tab holds a Web Lock for its whole life and the
 *   coordinator queues for it; the browser grants it the moment the tab is gone (closed, crashed,
 *   killed).
 * - A hung active tab is seen by its worker's missed heartbeats (`hangTimeoutMs`): the role goes
 *   to another tab, which steals the role lock, and the hung tab is told to terminate its worker,
 *   which frees the files. A frozen tab cannot: the next holder copies the files away from it
 *   (see worker/pool-generations.ts).
 * - Manual hand-off: the active worker finishes its current lease, closes the files and reports
 *   `deactivated`; then the requested tab is elected.
 * - The coordinator itself can die (its process crashes with a tab's). It holds a lifetime Web
 *   Lock that tabs queue for; they then reconnect to a fresh instance, which continues their epochs
 *   and prefers the tab whose worker still holds the database.
 *
 * The same class runs in both hosts (coordinator-entry.ts): a SharedWorker, or, without one, a
 * DedicatedWorker of one tab (the Web Locks coordinator). It only sees {@link Line}s.
 */
import { ActiveTabLostError, HandoffError, type SerializedError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, type HandoffReason } from '../protocol/message-fields.js'
import type { CoordinatorToTab, JoinMessage, TabToCoordinator } from '../protocol/coordinator-messages.js'
import { parseWorkerToCoordinator, type ActivatedMessage, type WorkerToCoordinator } from '../protocol/worker-control-messages.js'
import { TabRegistry } from './tab-registry.js'
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import { visibleSuccessor } from './visibility-policy.js'
import { debugLog, silent, type DebugLog } from '../protocol/debug-log.js'
import { openLine, type Line } from '../protocol/line.js'
import { Candidates } from './candidates.js'
import { TabGate } from './tab-gate.js'
import { HeartbeatWatch } from './heartbeat-watch.js'
import { HolderWait } from './holder-wait.js'
import { GOODBYE_GRACE_MS, brokerRoute, isPort, sendTab, sendWorker } from './wire.js'

interface TabLines {
  readonly tab: Line
  worker: Line
  readonly hangTimeoutMs: number
  /** The page is visible, since when (this coordinator's clock), and its `hiddenHandoffMs`. */
  visible: boolean
  visibleSince: number
  readonly hiddenHandoffMs: number | undefined
  /** The join these lines came with (see JoinMessage.serial). */
  readonly serial: number
}

/** How long to wait before electing again after an elected tab could not open the files. */
const REELECT_DELAY_MS = 100
/**
 * The longest an elected worker may go without showing progress, whatever `hangTimeoutMs` its tab
 * claims: a worker that waits for the role lock or opens the files heartbeats at least every
 * second (see ACQUIRING_BEAT_MS in worker/active-database.ts).
 */
const ELECTION_SILENCE_MS = 60_000
/** Activation failures that clear up by themselves (busy files, a lock wait cut short, a worker still leaving). */
const RETRY_ELECTION = new Set([HandoffError.name, 'AbortError', ActiveTabLostError.name])

export class Coordinator {
  readonly #env: BrowserEnv
  readonly #registry: TabRegistry
  readonly #lines = new Map<string, TabLines>()
  readonly #candidates = new Candidates()
  /** The tab told it is next in line (see #updateStandby). */
  #standby: string | undefined
  #preferred: string | undefined
  /** The tab being elected asked to step down before it had opened the database. */
  #stepDownAsked: string | undefined
  #reason: HandoffReason = 'elected'
  /** Where the active worker opened the database (sent with every route). */
  #storage: Pick<ActivatedMessage, 'storage' | 'storageReason'> = { storage: 'opfs-sahpool' }
  #steal = false
  /**
   * When the last election was sent (wall clock), only ever growing: it orders the markers of
   * tabs that took the files over from a hung holder (see worker/pool-generations.ts).
   */
  #lastElectionAt = 0
  #reelectTimer: ReturnType<typeof setTimeout> | undefined
  /** The elected or active worker must show progress (see #workerSilent). */
  readonly #heartbeats: HeartbeatWatch
  /** After a restart: the worker that may still hold the files from before. */
  readonly #holder: HolderWait
  readonly #gate: TabGate
  readonly #instanceLock: string
  #visibilityTimer: ReturnType<typeof setTimeout> | undefined
  #log: DebugLog = silent

  /**
   * @param instanceLock a Web Lock name unique to this instance, which the host requested (and so
   *   holds, or is first in line for) before it lets any tab in
   * @param roleLock the database's role lock, held by the worker that has the files
   * @param takenOver this instance took over from a coordinator that fell silent
   */
  constructor(instanceLock: string, roleLock?: string, env: BrowserEnv = browserEnv(), takenOver = false) {
    this.#instanceLock = instanceLock
    this.#env = env
    this.#registry = new TabRegistry(env.wallClock)
    this.#heartbeats = new HeartbeatWatch(env, () => this.#workerSilent())
    this.#holder = new HolderWait(env, roleLock, takenOver, (steal) => {
      if (steal) this.#steal = true
      this.#elect()
    })
    this.#gate = new TabGate({
      handle: (port, message) => this.#handle(port, message),
      log: (what, details) => this.#log(what, details),
      debug: () => (this.#log = debugLog(true, 'coordinator')),
    })
  }

  /**
   * A tab connected: a SharedWorker `connect` event's port, or a line named in a join on the join
   * channel. The host calls this only while this coordinator holds the coordinator lock.
   */
  connect(port: Line): void {
    port.onmessage = (event) => this.receive(port, event.data)
    port.start()
  }

  /** A message from the tab on `port` (the join channel's join arrives here too). */
  receive(port: Line, data: unknown): void {
    this.#gate.receive(port, data)
  }

  #handle(port: Line, message: TabToCoordinator): void {
    // Only the port a tab joined on may speak for it.
    if (message.t !== 'join' && this.#lines.get(message.tabId)?.tab !== port) return
    switch (message.t) {
      case 'join':
        this.#join(port, message)
        break
      case 'leave':
        this.#gone(message.tabId, 'closed')
        break
      case 'rejoin':
        this.#rejoin(message.tabId, openLine(message.workerPort))
        break
      case 'handoff':
        this.#handoff(message.tabId, message.action)
        break
      case 'visibility': {
        const lines = this.#lines.get(message.tabId)!
        if (lines.visible === message.visible) break
        lines.visible = message.visible
        lines.visibleSince = this.#env.now()
        if (message.visible) this.#candidates.shown(message.tabId)
        this.#followVisibility()
        break
      }
    }
  }

  #join(port: Line, message: JoinMessage): void {
    const { tabId } = message
    // The join brought the secret the id derives from (checked in receive()).
    const known = this.#lines.get(tabId)
    if (known && (message.serial ?? 0) < known.serial) {
      // A join sent again overtook this one: its lines are the tab's.
      port.close()
      return
    }
    const worker = openLine(message.workerPort)
    if (known) {
      // The same tab again on a new line (it believed this coordinator dead): take the new lines.
      known.worker.close()
      if (known.tab !== port) known.tab.close()
      this.#lines.set(tabId, this.#tabLines(port, worker, message))
      this.#listenToWorker(tabId, worker)
      this.#forgetStandby(tabId)
      sendTab(port, { t: 'welcome', v: PROTOCOL_VERSION, lock: this.#instanceLock })
      if (this.#registry.active === tabId) {
        // Its worker keeps the files; a new election (to it) gives every tab a fresh line.
        this.#registry.abandon(tabId, this.#registry.epoch)
        this.#preferred = tabId
        this.#vacated('failed')
      } else if (this.#registry.ready) {
        this.#broker(tabId)
      }
      return
    }
    // The tab's own word for its age, clamped to now: a clock running ahead must not put it
    // behind tabs that joined after it.
    const since = message.since === undefined ? undefined : Math.min(message.since, this.#env.wallClock())
    if (!this.#registry.add(tabId, since)) return
    this.#registry.observeEpoch(message.epoch)
    this.#lines.set(tabId, this.#tabLines(port, worker, message))
    this.#listenToWorker(tabId, worker)
    // Granted only once the tab has released it, i.e. when the tab is gone. A closing tab's goodbye
    // ('leave', at pagehide) travels apart from the lock release, and Firefox may deliver the
    // release first: give the goodbye a moment before calling the tab crashed.
    void this.#env.locks.request(
      message.tabLock,
      () => void this.#env.setTimeout(() => this.#gone(tabId, 'crashed'), GOODBYE_GRACE_MS),
    )
    // This instance holds its own lock for its whole life: tabs queue for it to learn it died.
    sendTab(port, { t: 'welcome', v: PROTOCOL_VERSION, lock: this.#instanceLock })
    this.#lineUpChanged()
    if (this.#registry.ready) {
      this.#broker(tabId)
      this.#followVisibility()
      return
    }
    // Rejoining after a coordinator restart: the tab whose worker holds the files keeps the role.
    if (message.holder && !this.#registry.active) {
      this.#preferred = tabId
      this.#holder.claimed(tabId)
    } else if (message.epoch > 0) {
      this.#holder.begin(message.hangTimeoutMs)
    }
    this.#elect()
  }

  #tabLines(tab: Line, worker: Line, join: JoinMessage): TabLines {
    return {
      tab,
      worker,
      hangTimeoutMs: join.hangTimeoutMs,
      visible: join.visible,
      visibleSince: this.#env.now(),
      hiddenHandoffMs: join.hiddenHandoffMs,
      serial: join.serial ?? 0,
    }
  }

  /**
   * The role follows the user (see visibility-policy.ts): once the active tab has been hidden for
   * its `hiddenHandoffMs` while another tab is visible, the role moves to that one. Looked at
   * whenever a tab is shown or hidden, joins or leaves, and when a tab starts serving.
   */
  #followVisibility(): void {
    this.#env.clearTimeout(this.#visibilityTimer)
    this.#visibilityTimer = undefined
    const activeId = this.#registry.active
    const active = activeId && this.#lines.get(activeId)
    // Not while an election or a hand-off is under way: it looks again once the role is served.
    if (!active || !this.#registry.ready || this.#preferred || this.#stepDownAsked) return
    const others = [...this.#lines]
      .filter(([tabId]) => tabId !== activeId && this.#candidates.followable(tabId))
      .map(([tabId, lines]) => ({ tabId, visible: lines.visible, since: lines.visibleSince }))
    const now = this.#env.now()
    const verdict = visibleSuccessor(
      { tabId: activeId, visible: active.visible, since: active.visibleSince },
      others,
      active.hiddenHandoffMs,
      now,
    )
    if (!verdict) return
    if ('at' in verdict) {
      this.#visibilityTimer = this.#env.setTimeout(() => this.#followVisibility(), verdict.at - now)
      return
    }
    this.#log('the active tab is hidden: the role goes to a visible tab', { from: activeId, to: verdict.tabId })
    this.#handoff(verdict.tabId, 'claim', 'hidden')
  }

  #listenToWorker(tabId: string, port: Line): void {
    port.onmessage = (event) => {
      const message = parseWorkerToCoordinator(event.data)
      if (message && this.#lines.get(tabId)?.worker === port) this.#onWorkerMessage(tabId, message)
    }
  }

  /**
   * A fenced tab started a fresh worker; it may be elected again. The tab terminated the old one
   * first, so if it is the active tab (re-elected on that worker after its fence: the only tab, or
   * the last not skipped), that election can never complete, or serve again if the old worker woke
   * and took it up before it was terminated.
   */
  #rejoin(tabId: string, workerPort: Line): void {
    const lines = this.#lines.get(tabId)
    if (!lines) return
    const active = this.#registry.active === tabId
    const served = active && this.#registry.ready
    if (active) {
      this.#registry.abandon(tabId, this.#registry.epoch)
      this.#heartbeats.stop()
    }
    lines.worker.close()
    lines.worker = workerPort
    this.#listenToWorker(tabId, workerPort)
    this.#candidates.freshWorker(tabId)
    this.#forgetStandby(tabId)
    // Tabs routed to the terminated worker lose that route; for an election that never completed
    // they already did, at the fence.
    if (served) this.#vacated('hung')
    else if (!this.#registry.active) this.#elect()
  }

  #gone(tabId: string, reason: HandoffReason): void {
    if (!this.#registry.has(tabId)) return
    const { wasActive } = this.#registry.remove(tabId)
    const lines = this.#lines.get(tabId)
    this.#lines.delete(tabId)
    this.#candidates.gone(tabId)
    if (this.#preferred === tabId) this.#preferred = undefined
    if (this.#stepDownAsked === tabId) this.#stepDownAsked = undefined
    lines?.worker.close()
    if (lines && !isPort(lines.tab)) lines.tab.close()
    this.#lineUpChanged()
    if (wasActive) {
      this.#vacated(reason)
    } else if (this.#registry.ready) {
      const active = this.#lines.get(this.#registry.active!)
      if (active) sendWorker(active.worker, { t: 'tab-gone', v: PROTOCOL_VERSION, tabId })
    }
  }

  /** The active role is vacant: tell every tab, then elect. */
  #vacated(reason: HandoffReason): void {
    this.#log('the active role is vacant', { reason, epoch: this.#registry.epoch })
    this.#heartbeats.stop()
    this.#reason = reason
    for (const other of this.#lines.values()) {
      sendTab(other.tab, { t: 'route-lost', v: PROTOCOL_VERSION, epoch: this.#registry.epoch, reason })
    }
    this.#elect()
  }

  #handoff(tabId: string, action: 'claim' | 'release', reason: HandoffReason = 'manual'): void {
    const active = this.#registry.active
    if (action === 'claim') {
      this.#candidates.claimed(tabId, reason === 'manual')
      if (this.#stepDownAsked === tabId) this.#stepDownAsked = undefined
      if (active === tabId) return
      this.#preferred = tabId
    } else {
      // With no other tab, the role comes straight back: a cheap close and reopen.
      if (active && active !== tabId) return
      this.#candidates.steppedDown(tabId)
      // Not serving yet (opening, or no election yet, e.g. a restarted coordinator that may take
      // it over as the holder): it steps down once it reports, if it is the one (see 'activated').
      if (!active || !this.#registry.ready) this.#stepDownAsked = tabId
    }
    if (!active) {
      this.#elect()
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

  #elect(): void {
    if (this.#registry.active || this.#holder.waiting) return
    const election = this.#candidates.pick(this.#registry, this.#preferred)
    if (!election) return
    this.#log('elect', { ...election, steal: this.#steal })
    this.#preferred = undefined
    const lines = this.#lines.get(election.tabId)!
    sendWorker(lines.worker, {
      t: 'activate',
      v: PROTOCOL_VERSION,
      epoch: election.epoch,
      steal: this.#steal,
      at: (this.#lastElectionAt = Math.max(this.#env.wallClock(), this.#lastElectionAt + 1)),
    })
    // The elected worker must show progress while it opens the database, or another is elected.
    this.#heartbeats.start(this.#holder.electionBound(election.tabId, this.#electionBound(election.tabId)))
  }

  /**
   * How long the tab elected may go without showing progress: its own `hangTimeoutMs` (its worker
   * heartbeats at that pace when busy), but no longer than ELECTION_SILENCE_MS, whatever it claims.
   */
  #electionBound(tabId: string): number {
    return Math.min(this.#lines.get(tabId)!.hangTimeoutMs, ELECTION_SILENCE_MS)
  }

  #onWorkerMessage(tabId: string, message: WorkerToCoordinator): void {
    const registry = this.#registry
    const current = registry.active === tabId && registry.epoch === message.epoch
    switch (message.t) {
      case 'activated': {
        if (!registry.markReady(tabId, message.epoch)) {
          // A stale activation (superseded while it waited): it must let the files go.
          this.#deactivate(tabId, message.epoch)
          return
        }
        this.#candidates.served(tabId)
        this.#steal = false
        this.#storage = { storage: message.storage, ...(message.storageReason ? { storageReason: message.storageReason } : {}) }
        this.#heartbeats.start(message.hangTimeoutMs)
        const reason = this.#reason
        for (const id of registry.tabIds()) this.#broker(id, reason)
        // Told: tabs that join from now on, or a later vacancy not asked for, are not this hand-off.
        this.#reason = 'elected'
        this.#lineUpChanged()
        // A hand-off was asked for while this tab was still opening the database.
        const stepDown = this.#stepDownAsked
        this.#stepDownAsked = undefined
        if (this.#preferred && this.#preferred !== tabId) this.#handoff(this.#preferred, 'claim')
        else if (stepDown === tabId) this.#handoff(tabId, 'release')
        else this.#followVisibility()
        return
      }
      case 'heartbeat':
        if (current && !registry.ready) {
          this.#heartbeats.beat() // still opening, and alive
        } else if (current) {
          this.#heartbeats.beat()
          sendWorker(this.#lines.get(tabId)!.worker, { t: 'ack', v: PROTOCOL_VERSION, epoch: message.epoch, seq: message.seq })
        } else if (!registry.active && message.epoch >= registry.epoch) {
          // It has the files from an election of a coordinator that died since: it keeps them.
          registry.observeEpoch(message.epoch)
          this.#preferred = tabId
          this.#holder.claimed(tabId)
          this.#elect()
        } else {
          // A worker that was replaced while it stalled: it must not serve, and must let the files go.
          this.#deactivate(tabId, message.epoch)
        }
        return
      case 'deactivated':
        if (current && registry.abandon(tabId, message.epoch))
          this.#vacated(this.#reason === 'manual' || this.#reason === 'hidden' ? this.#reason : 'failed')
        return
      case 'activate-failed':
        if (!registry.abandon(tabId, message.epoch)) return
        this.#candidates.couldNotOpen(tabId)
        if (RETRY_ELECTION.has(message.error.name)) {
          // Busy handles clear up once the previous holder is fully gone: try again shortly.
          this.#steal = true
          this.#env.clearTimeout(this.#reelectTimer)
          this.#reelectTimer = this.#env.setTimeout(() => this.#elect(), REELECT_DELAY_MS)
        } else if (this.#candidates.untried(this.#registry)) {
          // Another open tab may manage (it may differ, e.g. in its wasmUrl): each tries once
          // before every tab is told.
          this.#elect()
        } else {
          this.#broadcastFailure(message.error)
        }
        return
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
      this.#steal = true
      this.#elect()
      return
    }
    // Hung: the tab (if its main thread still runs) terminates its worker, freeing the files.
    const lines = this.#lines.get(active)
    if (lines) sendTab(lines.tab, { t: 'fence', v: PROTOCOL_VERSION })
    this.#registry.abandon(active, this.#registry.epoch)
    this.#candidates.hung(active)
    this.#steal = true
    this.#vacated('hung')
  }

  /** Who is here, or who is active, changed: tell every tab, and the (new) standby. */
  #lineUpChanged(): void {
    const message: CoordinatorToTab = {
      t: 'roster',
      v: PROTOCOL_VERSION,
      tabIds: this.#registry.tabIds(),
      activeTabId: this.#registry.ready ? this.#registry.active : undefined,
    }
    for (const lines of this.#lines.values()) sendTab(lines.tab, message)
    this.#updateStandby()
  }

  /** The tab has a new worker, which has heard nothing yet: tell it again if it is next in line. */
  #forgetStandby(tabId: string): void {
    if (this.#standby !== tabId) return
    this.#standby = undefined
    this.#updateStandby()
  }

  /**
   * Tells the worker of the tab next in line that it is (so, with `warmStandby`, it prepares
   * SQLite), and the one that was that it no longer is. Every worker hears it; only those whose
   * tab asked for a warm standby act on it.
   */
  #updateStandby(): void {
    // While the role is vacant or opening the standby stays as it is: it is likely the one elected.
    if (!this.#registry.ready) return
    const next = this.#candidates.nextInLine(this.#registry)
    if (next === this.#standby) return
    const previous = this.#standby !== this.#registry.active && this.#standby && this.#lines.get(this.#standby)
    if (previous) sendWorker(previous.worker, { t: 'standby', v: PROTOCOL_VERSION, on: false })
    this.#standby = next
    const lines = next && this.#lines.get(next)
    if (lines) sendWorker(lines.worker, { t: 'standby', v: PROTOCOL_VERSION, on: true })
  }

  /** No tab can open the database (e.g. no OPFS): every tab's requests fail with the reason. */
  #broadcastFailure(error: SerializedError): void {
    for (const lines of this.#lines.values()) {
      sendTab(lines.tab, { t: 'route-lost', v: PROTOCOL_VERSION, epoch: this.#registry.epoch, reason: 'failed', error })
    }
  }

  #broker(tabId: string, reason: HandoffReason = this.#reason): void {
    const activeTabId = this.#registry.active
    const active = activeTabId && this.#lines.get(activeTabId)
    const lines = this.#lines.get(tabId)
    if (!active || !lines) return
    brokerRoute(active.worker, lines.tab, tabId, { epoch: this.#registry.epoch, activeTabId, reason, storage: this.#storage })
  }
}
