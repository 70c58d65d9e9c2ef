/**
 * The line between the active worker and its own tab: the Worker channel itself, not the port (or
 * BroadcastChannel) the coordinator brokered. Measured in Chromium 156 (a bare page-worker round
 * trip, interleaved): about 90 µs over the Worker object, 110-125 µs over a MessagePort; every
 * statement of the active tab pays that round trip.
 *
 * The tab names the route it is replacing by the route's token, which the coordinator gave both
 * ends. The coordinator's `attach` and the tab's `own-line` arrive by different paths, in either
 * order: whichever comes first waits here, by token, for the other.
 *
 * One Worker channel carries every own line in turn, in order: what the tab sent before an
 * `own-line` belongs to the line before it. The other way, the worker answers `own-line` with
 * `own-line-open` once the line before it is closed (it posts nothing more), so what the tab hears
 * before that belongs to a line it has moved on from, and is dropped as a closed port would drop
 * it. Nothing is added to each message.
 */
import { HoldingLine } from '../protocol/line.js'
import type { OwnLineOpen } from '../protocol/own-worker-messages.js'

declare const self: DedicatedWorkerGlobalScope

/**
 * This worker's end of an own line. What the tab sends before it is attached waits, as on a
 * port; a closed one drops it. The entry hands each message from the tab to `deliver`, which is
 * the statement server's handler itself once the line is attached.
 */
export class SelfLine extends HoldingLine {
  #closed = false

  postMessage(message: unknown): void {
    if (!this.#closed) self.postMessage(message)
  }

  close(): void {
    this.#closed = true
    this.dropAll()
    if (current === this) current = undefined
  }
}

/**
 * The latest own line not yet attached, and the latest attach not yet met. Each kind arrives in
 * order on its own channel (the tab's, the coordinator's), so a newer one of a kind replaces the
 * older; across the two the order is free, so one never displaces the other.
 */
let unmetLine: { token: string; line: SelfLine } | undefined
let unmetAttach: { token: string; attach: (line: SelfLine) => void } | undefined
let current: SelfLine | undefined

/**
 * The tab opened own line `serial` for the route with `token`: the messages it sends from now on
 * go to the line returned (the line before it is closed).
 */
export function openOwnLine(token: string, serial: number): SelfLine {
  current?.close()
  const line = (current = new SelfLine())
  self.postMessage({ t: 'own-line-open', serial } satisfies OwnLineOpen)
  unmetLine = { token, line }
  meetIfPaired()
  return line
}

/** The coordinator attached this worker's own tab with `token`: `attach` gets the own line. */
export function awaitOwnLine(token: string, attach: (line: SelfLine) => void): void {
  unmetAttach = { token, attach }
  meetIfPaired()
}

function meetIfPaired(): void {
  if (!unmetLine || !unmetAttach || unmetLine.token !== unmetAttach.token) return
  const { line } = unmetLine
  const { attach } = unmetAttach
  unmetLine = undefined
  unmetAttach = undefined
  attach(line)
}
