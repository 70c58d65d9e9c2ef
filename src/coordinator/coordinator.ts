/**
 * The coordinator: tracks the live tabs of one database, elects the active one and brokers a
 * direct MessageChannel from every tab to the active tab's worker. It is on the control path
 * only; no query passes through it.
 *
 * This class is the tabs' side: who joins, leaves, comes again on new lines, starts a fresh
 * worker, shows or hides its page, and who is gone. The role's side (elections, hand-offs, the
 * hang watch) is active-role.ts.
 *
 * - A tab's death is seen at once: each tab holds a Web Lock for its whole life and the
 *   coordinator queues for it; the browser grants it the moment the tab is gone (closed, crashed,
 *   killed).
 * - The coordinator itself can die (its process crashes with a tab's). It holds a lifetime Web
 *   Lock that tabs queue for; they then reconnect to a fresh instance, which continues their epochs
 *   and prefers the tab whose worker still holds the database.
 *
 * The same class runs in both hosts (coordinator-entry.ts): a SharedWorker, or, without one, a
 * DedicatedWorker of one tab (the Web Locks coordinator). It only sees {@link Line}s.
 */
import { PROTOCOL_VERSION, type HandoffReason } from '../protocol/message-fields.js'
import type { JoinMessage, TabToCoordinator } from '../protocol/coordinator-messages.js'
import { TabRegistry } from './tab-registry.js'
import { debugLog, silent, type DebugLog } from '../protocol/debug-log.js'
import { openLine, type Line } from '../protocol/line.js'
import { Candidates } from './candidates.js'
import { TabGate } from './tab-gate.js'
import { ActiveRole } from './active-role.js'
import { LineTable, tabLines } from './line-table.js'
import { Standby } from './standby.js'
import { VisibilityWatch } from './visibility-watch.js'
import { GOODBYE_GRACE_MS, isMessagePort, sendTab, sendWorker } from './wire.js'
import { browserCoordinatorEnv, type CoordinatorEnv } from './coordinator-env.js'

export class Coordinator {
  readonly #env: CoordinatorEnv
  readonly #registry: TabRegistry
  readonly #lines: LineTable
  readonly #candidates = new Candidates()
  readonly #standby: Standby
  readonly #role: ActiveRole
  readonly #visibility: VisibilityWatch
  readonly #gate: TabGate
  readonly #instanceLock: string
  #log: DebugLog = silent

  /**
   * @param instanceLock a Web Lock name unique to this instance, which the host requested (and so
   *   holds, or is first in line for) before it lets any tab in
   * @param roleLock the database's role lock, held by the worker that has the files
   * @param takenOver this instance took over from a coordinator that fell silent
   */
  constructor(instanceLock: string, roleLock?: string, env: CoordinatorEnv = browserCoordinatorEnv(), takenOver = false) {
    this.#instanceLock = instanceLock
    this.#env = env
    this.#registry = new TabRegistry(env.wallClock)
    this.#lines = new LineTable(this.#registry)
    this.#standby = new Standby(this.#registry, this.#candidates, this.#lines)
    const log: DebugLog = (what, details) => this.#log(what, details)
    this.#role = new ActiveRole({
      env,
      registry: this.#registry,
      candidates: this.#candidates,
      lines: this.#lines,
      roleLock,
      takenOver,
      log,
      lineUpChanged: () => this.#lineUpChanged(),
      followVisibility: () => this.#visibility.look(),
    })
    this.#visibility = new VisibilityWatch(env, this.#registry, this.#candidates, this.#lines, {
      busy: () => this.#role.handingOff,
      moveTo: (tabId) => this.#role.handoff(tabId, 'claim', 'hidden'),
      log,
    })
    this.#gate = new TabGate({
      handle: (port, message) => this.#handle(port, message),
      log,
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
        this.#rejoin(message.tabId, openLine(message.workerPort, this.#env.openChannel))
        break
      case 'handoff':
        this.#role.handoff(message.tabId, message.action)
        break
      case 'visibility':
        this.#visibility.changed(message.tabId, message.visible)
        break
    }
  }

  #join(port: Line, message: JoinMessage): void {
    const { tabId } = message
    // The join brought the secret the id derives from (checked by the TabGate).
    const known = this.#lines.get(tabId)
    if (known && (message.serial ?? 0) < known.serial) {
      // A join sent again overtook this one: its lines are the tab's.
      port.close()
      return
    }
    const worker = openLine(message.workerPort, this.#env.openChannel)
    if (known) {
      // The same tab again on a new line (it believed this coordinator dead): take the new lines.
      known.worker.close()
      if (known.tab !== port) known.tab.close()
      this.#lines.set(tabId, tabLines(port, worker, message, this.#env.now()))
      this.#role.listen(tabId, worker)
      this.#standby.forget(tabId)
      sendTab(port, { t: 'welcome', v: PROTOCOL_VERSION, lock: this.#instanceLock })
      if (this.#registry.active === tabId) this.#role.electAgain(tabId)
      else if (this.#registry.ready) this.#role.broker(tabId)
      return
    }
    // The tab's own word for its age, clamped to now: a clock running ahead must not put it
    // behind tabs that joined after it.
    const since = message.since === undefined ? undefined : Math.min(message.since, this.#env.wallClock())
    if (!this.#registry.add(tabId, since)) return
    this.#registry.observeEpoch(message.epoch)
    this.#lines.set(tabId, tabLines(port, worker, message, this.#env.now()))
    this.#role.listen(tabId, worker)
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
      this.#role.broker(tabId)
      this.#visibility.look()
      return
    }
    this.#role.joined(message)
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
    if (active) this.#role.abandon(tabId)
    lines.worker.close()
    lines.worker = workerPort
    this.#role.listen(tabId, workerPort)
    this.#candidates.freshWorker(tabId)
    this.#standby.forget(tabId)
    // Tabs routed to the terminated worker lose that route; for an election that never completed
    // they already did, at the fence.
    if (served) this.#role.vacated('hung')
    else if (!this.#registry.active) this.#role.elect()
  }

  #gone(tabId: string, reason: HandoffReason): void {
    if (!this.#registry.has(tabId)) return
    const { wasActive } = this.#registry.remove(tabId)
    const lines = this.#lines.get(tabId)
    this.#lines.delete(tabId)
    this.#candidates.gone(tabId)
    this.#role.forget(tabId)
    lines?.worker.close()
    if (lines && !isMessagePort(lines.tab)) lines.tab.close()
    this.#lineUpChanged()
    if (wasActive) {
      this.#role.vacated(reason)
    } else if (this.#registry.ready) {
      const active = this.#lines.get(this.#registry.active!)
      if (active) sendWorker(active.worker, { t: 'tab-gone', v: PROTOCOL_VERSION, tabId })
    }
  }

  /** Who is here, or who is active, changed: tell every tab, and the (new) standby. */
  #lineUpChanged(): void {
    this.#lines.roster()
    this.#standby.update()
  }
}
