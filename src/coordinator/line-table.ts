/**
 * Each member tab's two lines (to the tab, to its worker) with what the coordinator keeps about the
 * tab beside them, and what goes to every tab at once. Only the lines in the table speak for a
 * tab; a tab is in it from its join until it is gone. What is sent names the registry's epoch and
 * active tab at the moment of sending.
 */
import type { SerializedError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, type HandoffReason } from '../protocol/message-fields.js'
import type { CoordinatorToTab, JoinMessage } from '../protocol/coordinator-messages.js'
import type { Line } from '../protocol/line.js'
import type { TabRegistry } from './tab-registry.js'
import { brokerRoute, sendTab, type Route } from './wire.js'

export interface TabLines {
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

/** The lines a join brought, `now` on this coordinator's monotonic clock. */
export function tabLines(tab: Line, worker: Line, join: JoinMessage, now: number): TabLines {
  return {
    tab,
    worker,
    hangTimeoutMs: join.hangTimeoutMs,
    visible: join.visible,
    visibleSince: now,
    hiddenHandoffMs: join.hiddenHandoffMs,
    serial: join.serial ?? 0,
  }
}

export class LineTable {
  readonly #registry: TabRegistry
  readonly #lines = new Map<string, TabLines>()

  constructor(registry: TabRegistry) {
    this.#registry = registry
  }

  get(tabId: string): TabLines | undefined {
    return this.#lines.get(tabId)
  }

  set(tabId: string, lines: TabLines): void {
    this.#lines.set(tabId, lines)
  }

  delete(tabId: string): void {
    this.#lines.delete(tabId)
  }

  entries(): IterableIterator<[string, TabLines]> {
    return this.#lines.entries()
  }

  /** Who is here, and who is active once it serves, to every tab. */
  roster(): void {
    const registry = this.#registry
    const message: CoordinatorToTab = {
      t: 'roster',
      v: PROTOCOL_VERSION,
      tabIds: registry.tabIds(),
      activeTabId: registry.ready ? registry.active : undefined,
    }
    for (const lines of this.#lines.values()) sendTab(lines.tab, message)
  }

  /** Every tab's route is lost; with `error`, no tab can open the database and requests fail with it. */
  routeLost(reason: HandoffReason, error?: SerializedError): void {
    const epoch = this.#registry.epoch
    for (const lines of this.#lines.values()) {
      sendTab(lines.tab, { t: 'route-lost', v: PROTOCOL_VERSION, epoch, reason, ...(error ? { error } : {}) })
    }
  }

  /** A line from `tabId` to the active worker, if there are both. */
  broker(tabId: string, reason: HandoffReason, storage: Route['storage']): void {
    const activeTabId = this.#registry.active
    const active = activeTabId && this.#lines.get(activeTabId)
    const lines = this.#lines.get(tabId)
    if (!active || !lines) return
    brokerRoute(active.worker, lines.tab, tabId, { epoch: this.#registry.epoch, activeTabId, reason, storage })
  }
}
