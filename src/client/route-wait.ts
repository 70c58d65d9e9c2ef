/**
 * Statements waiting for a route (no tab is active yet, or the active one went away). Each waits
 * at most `requestTimeoutMs`; once no tab can serve the database at all, the waiting ones and
 * every later one fail with that reason.
 */
import type { PendingRequest } from './pending-request.js'

export class RouteWait {
  readonly #requestTimeoutMs: number
  /** Called when a request has waited its whole bound (it is no longer waiting). */
  readonly #timedOut: (request: PendingRequest) => void
  #waiting: PendingRequest[] = []
  #failure: Error | undefined

  constructor(requestTimeoutMs: number, timedOut: (request: PendingRequest) => void) {
    this.#requestTimeoutMs = requestTimeoutMs
    this.#timedOut = timedOut
  }

  get size(): number {
    return this.#waiting.length
  }

  add(request: PendingRequest): void {
    if (this.#failure) {
      request.reject(this.#failure)
      return
    }
    request.timer = setTimeout(() => {
      this.#waiting = this.#waiting.filter((r) => r !== request)
      this.#timedOut(request)
    }, this.#requestTimeoutMs)
    this.#waiting.push(request)
  }

  /** A route came: later requests may wait for one again. */
  routed(): void {
    this.#failure = undefined
  }

  /** The waiting requests, no longer bound here, for the caller to send or settle. */
  takeAll(): PendingRequest[] {
    const waiting = this.#waiting
    this.#waiting = []
    for (const request of waiting) clearTimeout(request.timer)
    return waiting
  }

  /** No tab can serve the database: the waiting requests fail with `make()`, and later ones too. */
  fail(make: () => Error): void {
    this.#failure = make()
    for (const request of this.takeAll()) request.reject(make())
  }
}
