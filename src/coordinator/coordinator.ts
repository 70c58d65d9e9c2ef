/**
 * The coordinator: tracks the live tabs of one database, elects the active one and brokers a
 * direct MessageChannel from every tab to the active tab's worker. It is on the control path
 * only; no query passes through it.
 *
 * A tab's death is seen at once: each tab holds a Web Lock for its whole life and the coordinator
 * queues for it; the browser grants it to the coordinator the moment the tab is gone, whether the
 * tab closed, crashed or was killed.
 */
import {
  HandoffError,
  ProtocolError,
  serializeError,
  type SerializedError,
} from '../protocol/errors.js'
import {
  PROTOCOL_VERSION,
  type CoordinatorToTab,
  type CoordinatorToWorker,
  type JoinMessage,
} from '../protocol/messages.js'
import {
  hasVersion,
  isCurrentVersion,
  parseTabToCoordinator,
  parseWorkerToCoordinator,
} from '../protocol/validate.js'
import { TabRegistry } from './tab-registry.js'

interface TabLines {
  readonly tab: MessagePort
  readonly worker: MessagePort
}

/** How long to wait before electing again after an elected tab could not open the files. */
const REELECT_DELAY_MS = 200

export class Coordinator {
  readonly #registry = new TabRegistry()
  readonly #lines = new Map<string, TabLines>()
  /** Tabs that just failed to open the database, skipped at the next election. */
  readonly #failed = new Set<string>()
  #reelectTimer: ReturnType<typeof setTimeout> | undefined

  /** A tab connected (a SharedWorker `connect` event's port). */
  connect(port: MessagePort): void {
    port.onmessage = (event) => this.#onTabMessage(port, event.data)
    port.start()
  }

  #onTabMessage(port: MessagePort, data: unknown): void {
    if (hasVersion(data) && !isCurrentVersion(data)) {
      const error = new ProtocolError(
        `This tab speaks protocol version ${data.v} but the coordinator already running for this ` +
          `database speaks ${PROTOCOL_VERSION}: another tab runs a different release. Reload every tab.`,
      )
      send(port, { t: 'rejected', v: PROTOCOL_VERSION, error: serializeError(error) })
      return
    }
    const message = parseTabToCoordinator(data)
    if (!message) return
    if (message.t === 'join') this.#join(port, message)
    else this.#gone(message.tabId)
  }

  #join(port: MessagePort, message: JoinMessage): void {
    const { tabId } = message
    if (!this.#registry.add(tabId)) return
    this.#lines.set(tabId, { tab: port, worker: message.workerPort })
    message.workerPort.onmessage = (event) => this.#onWorkerMessage(tabId, event.data)
    // Granted only once the tab has released it, i.e. when the tab is gone.
    void navigator.locks.request(message.tabLock, () => this.#gone(tabId))
    if (this.#registry.ready) this.#broker(tabId)
    else this.#elect()
  }

  #gone(tabId: string): void {
    if (!this.#registry.has(tabId)) return
    const { wasActive } = this.#registry.remove(tabId)
    const lines = this.#lines.get(tabId)
    this.#lines.delete(tabId)
    this.#failed.delete(tabId)
    lines?.worker.close()
    if (wasActive) {
      for (const other of this.#lines.values()) {
        send(other.tab, { t: 'route-lost', v: PROTOCOL_VERSION, epoch: this.#registry.epoch })
      }
      this.#elect()
    } else if (this.#registry.ready) {
      const active = this.#lines.get(this.#registry.active!)
      if (active) sendWorker(active.worker, { t: 'tab-gone', v: PROTOCOL_VERSION, tabId })
    }
  }

  #elect(): void {
    if (this.#failed.size >= this.#registry.size) this.#failed.clear()
    const election = this.#registry.beginElection(this.#failed)
    if (!election) return
    const lines = this.#lines.get(election.tabId)!
    sendWorker(lines.worker, { t: 'activate', v: PROTOCOL_VERSION, epoch: election.epoch })
  }

  #onWorkerMessage(tabId: string, data: unknown): void {
    const message = parseWorkerToCoordinator(data)
    if (!message) return
    if (message.t === 'activated') {
      if (!this.#registry.markReady(tabId, message.epoch)) return
      this.#failed.clear()
      for (const id of this.#registry.tabIds()) this.#broker(id)
      return
    }
    if (!this.#registry.abandon(tabId, message.epoch)) return
    this.#failed.add(tabId)
    if (message.error.name === HandoffError.name) {
      // Busy handles clear up once the previous holder is fully gone: try again shortly.
      clearTimeout(this.#reelectTimer)
      this.#reelectTimer = setTimeout(() => this.#elect(), REELECT_DELAY_MS)
    } else {
      this.#broadcastFailure(message.error)
    }
  }

  /** No tab can open the database (e.g. no OPFS): every tab's requests fail with the reason. */
  #broadcastFailure(error: SerializedError): void {
    for (const lines of this.#lines.values()) {
      send(lines.tab, { t: 'route-lost', v: PROTOCOL_VERSION, epoch: this.#registry.epoch, error })
    }
  }

  #broker(tabId: string): void {
    const active = this.#lines.get(this.#registry.active!)
    const lines = this.#lines.get(tabId)
    if (!active || !lines) return
    const channel = new MessageChannel()
    const epoch = this.#registry.epoch
    active.worker.postMessage(
      { t: 'attach', v: PROTOCOL_VERSION, epoch, tabId, port: channel.port1 } satisfies CoordinatorToWorker,
      [channel.port1],
    )
    lines.tab.postMessage(
      { t: 'route', v: PROTOCOL_VERSION, epoch, activeTabId: this.#registry.active!, port: channel.port2 } satisfies CoordinatorToTab,
      [channel.port2],
    )
  }
}

function send(port: MessagePort, message: CoordinatorToTab): void {
  port.postMessage(message)
}

function sendWorker(port: MessagePort, message: CoordinatorToWorker): void {
  port.postMessage(message)
}
