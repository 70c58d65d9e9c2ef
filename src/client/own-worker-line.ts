/**
 * The tab's end of the line to its own worker while that worker is the active one: the Worker
 * object itself, faster than the brokered port (see worker/own-line.ts for the numbers and the
 * protocol). What the worker posts before it says `own-line-open` for this line's serial belongs
 * to a route this tab has left, and is dropped as a closed port would drop it.
 */
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { OwnLineMessage } from '../protocol/own-worker-messages.js'
import type { Line } from '../protocol/line.js'
import type { TabWorkerEnd } from './link-env.js'

export class OwnWorkerLine implements Line {
  readonly serial: number
  #closed = false
  #open = false
  onmessage: ((event: MessageEvent) => void) | null = null

  /** Opens own line `serial` for the route with `token` (the worker matches the two). */
  constructor(worker: Pick<TabWorkerEnd, 'postMessage'>, token: string, serial: number) {
    this.serial = serial
    this.postMessage = worker.postMessage.bind(worker)
    const message: OwnLineMessage = { t: 'own-line', v: PROTOCOL_VERSION, token, serial }
    worker.postMessage(message)
  }

  start(): void {}

  /**
   * Posts on the Worker channel: the Worker's own method while open, so no code of the line's
   * runs. A transfer list passed here would be honoured (the router passes none: what it sends is
   * copied).
   */
  postMessage: (message: unknown) => void

  close(): void {
    this.#closed = true
    this.postMessage = drop
    this.onmessage = null
  }

  /** The worker said `own-line-open` with `serial`: what it posts from now on is this line's. */
  opened(serial: number): void {
    if (serial === this.serial) this.#open = true
  }

  /** A message from the worker meant for the line it has open. */
  deliver(event: MessageEvent): void {
    if (this.#open && !this.#closed) this.onmessage?.(event)
  }
}

const drop = (): void => {}
