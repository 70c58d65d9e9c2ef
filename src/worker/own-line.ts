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
import type { Line } from '../protocol/line.js'
import type { OwnLineOpen } from '../protocol/messages.js'

declare const self: DedicatedWorkerGlobalScope

/** This worker's end of an own line. */
export class SelfLine implements Line {
  #closed = false
  #handler: ((event: MessageEvent) => void) | null = null
  /** What the tab sent before the line was attached (a port queues the same way until started). */
  #inbox: MessageEvent[] = []

  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#handler
  }

  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    this.#handler = handler
    if (!handler) return
    const inbox = this.#inbox
    this.#inbox = []
    for (const event of inbox) handler(event)
  }

  start(): void {}

  postMessage(message: unknown): void {
    if (!this.#closed) self.postMessage(message)
  }

  close(): void {
    this.#closed = true
    this.#inbox = []
    this.#handler = null
    if (current === this) current = undefined
  }

  /** A message from the tab on the Worker channel. */
  deliver(event: MessageEvent): void {
    if (this.#closed) return
    if (this.#handler) this.#handler(event)
    else this.#inbox.push(event)
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

/** The own line the tab's messages now go to, if any. */
export function currentOwnLine(): SelfLine | undefined {
  return current
}

/** The tab opened own line `serial` for the route with `token`: later messages from it go there. */
export function openOwnLine(token: string, serial: number): void {
  current?.close()
  const line = (current = new SelfLine())
  self.postMessage({ t: 'own-line-open', serial } satisfies OwnLineOpen)
  if (unmetAttach?.token === token) {
    const { attach } = unmetAttach
    unmetAttach = undefined
    unmetLine = undefined
    attach(line)
  } else {
    unmetLine = { token, line }
  }
}

/** The coordinator attached this worker's own tab with `token`: `attach` gets the own line. */
export function awaitOwnLine(token: string, attach: (line: SelfLine) => void): void {
  if (unmetLine?.token === token) {
    const { line } = unmetLine
    unmetLine = undefined
    unmetAttach = undefined
    attach(line)
  } else {
    unmetAttach = { token, attach }
  }
}
