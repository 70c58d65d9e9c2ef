/**
 * The tabs that want to hear which tables each commit wrote. They are told after the commit's
 * answer went out to its tab (never before, never for a rollback, never for an answer the worker
 * kept), the writing tab too, on the line each tab has now.
 */
import type { Line } from '../protocol/line.js'
import type { WorkerReply } from '../protocol/statement-messages.js'
import type { SqliteEngine } from './sqlite-engine.js'

type CommittedWrites = ReturnType<SqliteEngine['takeCommittedWrites']>

export class ChangeFanout {
  readonly #lines: ReadonlyMap<string, Line>
  readonly #subscribers = new Set<string>()

  /** @param lines every attached tab's line, by tab id (the server's own map) */
  constructor(lines: ReadonlyMap<string, Line>) {
    this.#lines = lines
  }

  get size(): number {
    return this.#subscribers.size
  }

  subscribe(tabId: string, on: boolean): void {
    if (on) this.#subscribers.add(tabId)
    else this.#subscribers.delete(tabId)
  }

  clear(): void {
    this.#subscribers.clear()
  }

  /** `answered` is whether the commit's answer went out: true, false (kept), or not yet known. */
  publishWhenAnswered(changes: CommittedWrites, answered: boolean | Promise<boolean>): void {
    if (answered === true) this.#publish(changes)
    else if (answered) void answered.then((sent) => sent && this.#publish(changes))
  }

  #publish({ tables, schema }: CommittedWrites): void {
    if (this.#subscribers.size === 0) return
    const message: WorkerReply = schema ? { t: 'changes', tables: [...tables], schema } : { t: 'changes', tables: [...tables] }
    for (const tabId of this.#subscribers) this.#lines.get(tabId)?.postMessage(message)
  }
}
