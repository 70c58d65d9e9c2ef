/**
 * Statements waiting for a route (no tab is active yet, or the active one went away). Each waits
 * at most `requestTimeoutMs`; once no tab can serve the database at all, the waiting ones and
 * every later one fail with that reason. Its timers are passed in (`env`), so the bound can be
 * unit-tested on a manual clock.
 */
import type { PendingRequest } from './pending-request.js'
import type { BrowserEnv } from '../protocol/browser-env.js'

export class RouteWait {
  readonly #requestTimeoutMs: number
  /** Called when a request has waited its whole bound (it is no longer waiting). */
  readonly #timedOut: (request: PendingRequest) => void
  #waiting: PendingRequest[] = []
  #failure: Error | undefined
  readonly #env: Pick<BrowserEnv, 'setTimeout' | 'clearTimeout'>

  constructor(
    requestTimeoutMs: number,
    timedOut: (request: PendingRequest) => void,
    env: Pick<BrowserEnv, 'setTimeout' | 'clearTimeout'>,
  ) {
    this.#requestTimeoutMs = requestTimeoutMs
    this.#timedOut = timedOut
    this.#env = env
  }

  get size(): number {
    return this.#waiting.length
  }

  add(request: PendingRequest): void {
    if (this.#failure) {
      request.reject(this.#failure)
      return
    }
    request.timer = this.#env.setTimeout(() => {
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
    for (const request of waiting) this.#env.clearTimeout(request.timer)
    return waiting
  }

  /** No tab can serve the database: the waiting requests fail with `make()`, and later ones too. */
  fail(make: () => Error): void {
    this.#failure = make()
    for (const request of this.takeAll()) request.reject(make())
  }
}
