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
import { ActiveTabLostError, HandoffError, ProtocolError, serializeError, type SerializedError } from '../protocol/errors.js'
import {
  PROTOCOL_VERSION,
  type CoordinatorToTab,
  type ActivatedMessage,
  type CoordinatorToWorker,
  type HandoffReason,
  type JoinMessage,
  type TabToCoordinator,
  type WorkerToCoordinator,
} from '../protocol/messages.js'
import { hasVersion, isCurrentVersion, parseTabToCoordinator, parseWorkerToCoordinator } from '../protocol/validate.js'
import { ownsTabId } from '../protocol/tab-identity.js'
import { TabRegistry } from './tab-registry.js'
import { browserEnv, type CoordinatorEnv } from './coordinator-env.js'
import { visibleSuccessor } from './visibility-policy.js'
import { debugLog, silent, type DebugLog } from '../protocol/debug-log.js'
import { newLine, openLine, transferOf, type Line } from '../protocol/line.js'

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
const HANG_CHECKS_PER_BOUND = 10
/**
 * The longest an elected worker may go without showing progress, whatever `hangTimeoutMs` its tab
 * claims: a worker that waits for the role lock or opens the files heartbeats at least every
 * second (see ACQUIRING_BEAT_MS in worker/active-database.ts).
 */
const ELECTION_SILENCE_MS = 60_000
/** How long a released tab lock waits for the tab's own goodbye before the tab counts as crashed. */
const GOODBYE_GRACE_MS = 50
/**
 * The share of a hang bound a coordinator that took over from a silent one (its tab frozen, see
 * client/coordinator-silence.ts) waits for the worker that holds the files to rejoin, and to
 * answer when elected: it has nothing to open, so a live one answers at once, while one in the
 * frozen tab never does, and every other tab waits meanwhile. At least the minimum below.
 */
const TAKEN_OVER_HOLDER_SHARE = 0.25
const TAKEN_OVER_HOLDER_MIN_MS = 500
/** How often a restarted coordinator looks whether the role lock is still held (see #awaitHolder). */
const HOLDER_POLL_MS = 100
/** Activation failures that clear up by themselves (busy files, a lock wait cut short, a worker still leaving). */
const RETRY_ELECTION = new Set([HandoffError.name, 'AbortError', ActiveTabLostError.name])

export class Coordinator {
  readonly #env: CoordinatorEnv
  readonly #registry: TabRegistry
  readonly #lines = new Map<string, TabLines>()
  /** Tabs that just failed (could not open, or hung), skipped at the next election. */
  readonly #skip = new Set<string>()
  /** Tabs that stepped down: elected only when no other tab will do (never counted as failed). */
  readonly #steppedDown = new Set<string>()
  /**
   * Tabs whose worker, once elected, never showed progress (a frozen tab, a bogus member): elected
   * again only when no other tab will do, until their worker opens the database. Each costs an
   * election at most one wait, however many elections follow.
   */
  readonly #distrusted = new Set<string>()
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
  #lastHeartbeat = 0
  #hangTimeoutMs = 0
  #hangTimer: ReturnType<typeof setInterval> | undefined
  /** The database's role lock, held by the worker that has the files (see #awaitHolder). */
  readonly #roleLock: string | undefined
  readonly #instanceLock: string
  #holderChecked = false
  #holderWait: ReturnType<typeof setTimeout> | undefined
  /** Took over from a coordinator that fell silent (see TAKEN_OVER_HOLDER_SHARE). */
  readonly #takenOver: boolean
  /** The tab whose worker says it holds the files, until it is elected. */
  #holderClaim: string | undefined
  #visibilityTimer: ReturnType<typeof setTimeout> | undefined
  /**
   * Tabs the role does not follow to: one that could not open the database when elected, or that
   * stepped down, until it is shown again (else a hand-off would go to it, and back, again and again).
   */
  readonly #notFollowed = new Set<string>()
  /** Ports with a join being checked, and what they sent after it (see receive()). */
  readonly #checking = new WeakMap<Line, Promise<void>>()
  /** Logs to this SharedWorker's console once any tab joined with `debug`. */
  #log: DebugLog = silent

  /**
   * @param instanceLock a Web Lock name unique to this instance, which the host requested (and so
   *   holds, or is first in line for) before it lets any tab in
   * @param takenOver this instance took over from a coordinator that fell silent
   */
  constructor(instanceLock: string, roleLock?: string, env: CoordinatorEnv = browserEnv(), takenOver = false) {
    this.#instanceLock = instanceLock
    this.#roleLock = roleLock
    this.#env = env
    this.#takenOver = takenOver
    this.#registry = new TabRegistry(env.wallClock)
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
    if (hasVersion(data) && !isCurrentVersion(data)) {
      const error = new ProtocolError(
        `This tab speaks protocol version ${data.v} but the coordinator already running for this ` +
          `database speaks ${PROTOCOL_VERSION}: another tab runs a different release. Reload every tab.`,
      )
      sendTab(port, { t: 'rejected', v: PROTOCOL_VERSION, error: serializeError(error) })
      return
    }
    const message = parseTabToCoordinator(data)
    if (!message) {
      this.#log('dropped a malformed message from a tab', { data })
      return
    }
    if (message.t === 'join' && message.debug) this.#log = debugLog(true, 'coordinator')
    this.#log(message.t, { tabId: message.tabId })
    // A join's secret is checked against its tab id, which takes a digest: what the port sends
    // meanwhile waits, so that a tab's messages are handled in the order it sent them.
    const before = this.#checking.get(port)
    if (!before && message.t !== 'join') return this.#handle(port, message)
    const step = (async () => {
      await before
      if (message.t === 'join' && !(await ownsTabId(message.tabId, message.secret))) return this.#refuse(port, message.tabId)
      this.#handle(port, message)
    })().catch((error: unknown) => this.#log('failed to handle a message from a tab', { error }))
    this.#checking.set(port, step)
    void step.then(() => {
      if (this.#checking.get(port) === step) this.#checking.delete(port)
    })
  }

  #refuse(port: Line, tabId: string): void {
    // A member's id without its secret: another script (every member learns the ids from the roster).
    this.#log('refused a join with the id of another tab', { tabId })
    const error = new ProtocolError(`Tab id ${tabId} is taken by another tab`)
    sendTab(port, { t: 'rejected', v: PROTOCOL_VERSION, error: serializeError(error) })
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
        if (message.visible) this.#notFollowed.delete(message.tabId)
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
      this.#holderClaim = tabId
      this.#env.clearTimeout(this.#holderWait)
      this.#holderWait = undefined
    } else if (message.epoch > 0 && !this.#holderChecked) {
      this.#awaitHolder(message.hangTimeoutMs)
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
      .filter(([tabId]) => tabId !== activeId && !this.#skip.has(tabId) && !this.#notFollowed.has(tabId))
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

  /**
   * A restarted coordinator, joined first by a tab that does not hold the database: if some worker
   * still holds the role lock, its tab is about to rejoin, and electing another would only make
   * that one wait for the files. Wait for it, at most one hang bound. A holder that has not
   * rejoined by then cannot (its tab is frozen, as when it hosted the coordinator this one took
   * over from): the tab elected steals the role lock, as from a hung one.
   */
  #awaitHolder(hangTimeoutMs: number): void {
    this.#holderChecked = true
    if (!this.#roleLock) return
    const boundMs = this.#takenOver ? takenOverHolderMs(hangTimeoutMs) : hangTimeoutMs
    const wait = (this.#holderWait = this.#env.setTimeout(() => {
      if (this.#holderWait === wait) this.#steal = true
      this.#stopWaiting(wait)
    }, boundMs))
    // Polled: a holder that died with the old coordinator may still be listed for a moment.
    const check = () => {
      if (this.#holderWait !== wait) return
      this.#env.locks
        .query()
        .then((snapshot) => {
          // No holder: the old active tab went with the old coordinator. Its goodbye (on the join
          // channel) may still be on its way to the tabs, so they can name the reason: a moment.
          if (!snapshot.held?.some((lock) => lock.name === this.#roleLock))
            this.#env.setTimeout(() => this.#stopWaiting(wait), GOODBYE_GRACE_MS)
          else this.#env.setTimeout(check, HOLDER_POLL_MS)
        })
        .catch(() => this.#stopWaiting(wait))
    }
    check()
  }

  #stopWaiting(wait: ReturnType<typeof setTimeout>): void {
    if (this.#holderWait !== wait) return
    this.#env.clearTimeout(wait)
    this.#holderWait = undefined
    this.#elect()
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
      this.#stopHangWatch()
    }
    lines.worker.close()
    lines.worker = workerPort
    this.#listenToWorker(tabId, workerPort)
    this.#skip.delete(tabId)
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
    this.#skip.delete(tabId)
    this.#steppedDown.delete(tabId)
    this.#distrusted.delete(tabId)
    this.#notFollowed.delete(tabId)
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
    this.#stopHangWatch()
    this.#reason = reason
    for (const other of this.#lines.values()) {
      sendTab(other.tab, { t: 'route-lost', v: PROTOCOL_VERSION, epoch: this.#registry.epoch, reason })
    }
    this.#elect()
  }

  #handoff(tabId: string, action: 'claim' | 'release', reason: HandoffReason = 'manual'): void {
    const active = this.#registry.active
    if (action === 'claim') {
      if (reason === 'manual') this.#notFollowed.delete(tabId)
      this.#steppedDown.delete(tabId)
      if (this.#stepDownAsked === tabId) this.#stepDownAsked = undefined
      if (active === tabId) return
      this.#preferred = tabId
    } else {
      // With no other tab, the role comes straight back: a cheap close and reopen.
      if (active && active !== tabId) return
      this.#notFollowed.add(tabId)
      this.#steppedDown.add(tabId)
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
    if (this.#registry.active || this.#holderWait) return
    if (this.#skip.size >= this.#registry.size) this.#skip.clear()
    let election
    const preferred = this.#preferred
    if (preferred && this.#registry.has(preferred)) {
      const others = new Set(this.#registry.tabIds().filter((id) => id !== preferred))
      election = this.#registry.beginElection(others)
    }
    if (!election && (this.#steppedDown.size > 0 || this.#distrusted.size > 0))
      election = this.#registry.beginElection(new Set([...this.#skip, ...this.#steppedDown, ...this.#distrusted]))
    election ??= this.#registry.beginElection(this.#skip)
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
    this.#hangTimeoutMs = this.#electionBound(election.tabId)
    if (this.#takenOver && election.tabId === this.#holderClaim) this.#hangTimeoutMs = takenOverHolderMs(this.#hangTimeoutMs)
    this.#holderClaim = undefined
    this.#lastHeartbeat = this.#env.now()
    this.#watchHeartbeats()
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
        this.#skip.clear()
        this.#steppedDown.clear()
        this.#distrusted.delete(tabId)
        this.#steal = false
        this.#storage = { storage: message.storage, ...(message.storageReason ? { storageReason: message.storageReason } : {}) }
        this.#hangTimeoutMs = message.hangTimeoutMs
        this.#lastHeartbeat = this.#env.now()
        this.#watchHeartbeats()
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
          this.#lastHeartbeat = this.#env.now() // still opening, and alive
        } else if (current) {
          this.#lastHeartbeat = this.#env.now()
          sendWorker(this.#lines.get(tabId)!.worker, { t: 'ack', v: PROTOCOL_VERSION, epoch: message.epoch, seq: message.seq })
        } else if (!registry.active && message.epoch >= registry.epoch) {
          // It has the files from an election of a coordinator that died since: it keeps them.
          registry.observeEpoch(message.epoch)
          this.#preferred = tabId
          this.#holderClaim = tabId
          this.#env.clearTimeout(this.#holderWait)
          this.#holderWait = undefined
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
        this.#skip.add(tabId)
        this.#notFollowed.add(tabId)
        if (RETRY_ELECTION.has(message.error.name)) {
          // Busy handles clear up once the previous holder is fully gone: try again shortly.
          this.#steal = true
          this.#env.clearTimeout(this.#reelectTimer)
          this.#reelectTimer = this.#env.setTimeout(() => this.#elect(), REELECT_DELAY_MS)
        } else if (this.#registry.size > this.#skip.size) {
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

  #stopHangWatch(): void {
    this.#env.clearInterval(this.#hangTimer)
    this.#hangTimer = undefined
  }

  #watchHeartbeats(): void {
    this.#env.clearInterval(this.#hangTimer)
    const bound = this.#hangTimeoutMs
    this.#hangTimer = this.#env.setInterval(() => {
      const active = this.#registry.active
      if (!active) return
      if (this.#env.now() - this.#lastHeartbeat <= bound) return
      if (!this.#registry.ready) {
        // Elected but silent while opening (a stalled or bogus worker): cancel it, elect another,
        // which steals the role lock in case the silent one holds it (a holder elected again by a
        // restarted coordinator, and frozen since).
        const epoch = this.#registry.epoch
        this.#registry.abandon(active, epoch)
        this.#deactivate(active, epoch)
        this.#skip.add(active)
        this.#distrusted.add(active)
        this.#stopHangWatch()
        this.#steal = true
        this.#elect()
        return
      }
      // Hung: the tab (if its main thread still runs) terminates its worker, freeing the files.
      const lines = this.#lines.get(active)
      if (lines) sendTab(lines.tab, { t: 'fence', v: PROTOCOL_VERSION })
      this.#registry.abandon(active, this.#registry.epoch)
      this.#skip.add(active)
      this.#steal = true
      this.#vacated('hung')
    }, bound / HANG_CHECKS_PER_BOUND)
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
    const next = this.#registry.nextInLine(new Set([...this.#skip, ...this.#distrusted]))
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
    const active = this.#lines.get(this.#registry.active!)
    const lines = this.#lines.get(tabId)
    if (!active || !lines) return
    // A MessageChannel when both ends reach this coordinator by port, else a channel line.
    const [workerEnd, tabEnd] = newLine(isPort(active.worker) && isPort(lines.tab))
    const epoch = this.#registry.epoch
    // Unguessable, and known only to the two ends: the worker serves the port once it sees it.
    const token = crypto.randomUUID()
    active.worker.postMessage(
      { t: 'attach', v: PROTOCOL_VERSION, epoch, tabId, port: workerEnd, token } satisfies CoordinatorToWorker,
      transferOf(workerEnd),
    )
    lines.tab.postMessage(
      {
        t: 'route',
        v: PROTOCOL_VERSION,
        epoch,
        activeTabId: this.#registry.active!,
        reason,
        port: tabEnd,
        token,
        ...this.#storage,
      } satisfies CoordinatorToTab,
      transferOf(tabEnd),
    )
  }
}

const isPort = (line: Line): boolean => typeof MessagePort !== 'undefined' && line instanceof MessagePort

function sendTab(port: Line, message: CoordinatorToTab): void {
  port.postMessage(message)
}

function sendWorker(port: Line, message: CoordinatorToWorker): void {
  port.postMessage(message)
}

/** How long a coordinator that took over waits for the holder (see TAKEN_OVER_HOLDER_SHARE). */
function takenOverHolderMs(hangTimeoutMs: number): number {
  return Math.max(TAKEN_OVER_HOLDER_MIN_MS, hangTimeoutMs * TAKEN_OVER_HOLDER_SHARE)
}
