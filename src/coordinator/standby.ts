/**
 * The warm standby: the worker of the tab next in line is told that it is (so, with `warmStandby`,
 * it prepares SQLite), and the one that was, that it no longer is. Every worker hears it; only
 * those whose tab asked for a warm standby act on it. While the role is vacant or opening the
 * standby stays as it is: it is likely the one elected.
 */
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { Candidates } from './candidates.js'
import type { LineTable } from './line-table.js'
import type { TabRegistry } from './tab-registry.js'
import { sendWorker } from './wire.js'

export class Standby {
  readonly #registry: TabRegistry
  readonly #candidates: Candidates
  readonly #lines: LineTable
  /** The tab told it is next in line. */
  #tabId: string | undefined

  constructor(registry: TabRegistry, candidates: Candidates, lines: LineTable) {
    this.#registry = registry
    this.#candidates = candidates
    this.#lines = lines
  }

  /** Who is here, or who is active, changed: tell the (new) standby. */
  update(): void {
    if (!this.#registry.ready) return
    const next = this.#candidates.nextInLine(this.#registry)
    if (next === this.#tabId) return
    const previous = this.#tabId !== this.#registry.active && this.#tabId && this.#lines.get(this.#tabId)
    if (previous) sendWorker(previous.worker, { t: 'standby', v: PROTOCOL_VERSION, on: false })
    this.#tabId = next
    const lines = next && this.#lines.get(next)
    if (lines) sendWorker(lines.worker, { t: 'standby', v: PROTOCOL_VERSION, on: true })
  }

  /** The tab has a new worker, which has heard nothing yet: tell it again if it is next in line. */
  forget(tabId: string): void {
    if (this.#tabId !== tabId) return
    this.#tabId = undefined
    this.update()
  }
}
