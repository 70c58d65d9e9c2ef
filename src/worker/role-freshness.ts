/**
 * Whether the active worker may still serve: the fence against a hung holder.
 *
 * The worker heartbeats to the coordinator, and its role is fresh until a bound after the send
 * time of its last acknowledged heartbeat, a bound that ends before the coordinator would declare
 * it hung. A worker that stalled (a busy loop, a frozen tab) asks again before it runs anything
 * (`renew`): an acknowledgement says it still holds the role; none within `hangTimeoutMs`, or
 * silence for twice that, means another tab may hold it now, and the worker must let the files
 * go (`onLost`).
 */
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'

/** The share of the hang bound a worker may serve after its last acknowledged heartbeat was sent. */
const VALIDITY_SHARE = 0.6
/** Heartbeats per `hangTimeoutMs`; also the least time between two sent from a running statement. */
export const HEARTBEATS_PER_BOUND = 6

export interface FreshnessOptions {
  readonly hangTimeoutMs: number
  /** Sends heartbeat `seq` to the coordinator. */
  readonly send: (seq: number) => void
  /** Nobody answers: the coordinator is gone or has replaced this worker. Let the files go. */
  readonly onLost: () => void
}

/** The clock and timers freshness is kept on: the browser's, or a test's. */
export type FreshnessEnv = Pick<BrowserEnv, 'now' | 'setTimeout' | 'setInterval' | 'clearInterval'>

export class RoleFreshness {
  readonly #options: FreshnessOptions
  readonly #env: FreshnessEnv
  #validUntil = 0
  #seq = 0
  readonly #sentAt = new Map<number, number>()
  #timer: ReturnType<typeof setInterval> | undefined
  /** When the last heartbeat went out, and the last one sent from inside a running statement. */
  #lastBeatAt = 0
  #lastBusyBeatAt = 0
  #lastAckAt = 0
  #renewWaiters: Array<(fresh: boolean) => void> = []
  #renewRound = 0

  constructor(options: FreshnessOptions, env: FreshnessEnv = browserEnv()) {
    this.#options = options
    this.#env = env
  }

  /** The role was just granted (or granted again): fresh for one bound, heartbeats from now. */
  start(): void {
    const bound = this.#options.hangTimeoutMs
    this.#validUntil = this.#env.now() + bound * VALIDITY_SHARE
    this.#lastAckAt = this.#env.now()
    this.#sentAt.clear()
    this.#env.clearInterval(this.#timer)
    this.#timer = this.#env.setInterval(() => this.#beat(), bound / HEARTBEATS_PER_BOUND)
  }

  /** The role is gone: no more heartbeats, and whoever waits on `renew` hears false. */
  stop(): void {
    this.#env.clearInterval(this.#timer)
    this.#timer = undefined
    this.#settle(false)
  }

  /** Fresh right now (the hot path: a clock read, no Promise). */
  get fresh(): boolean {
    return this.#env.now() <= this.#validUntil
  }

  /** Milliseconds since the coordinator last acknowledged a heartbeat. */
  get sinceAckMs(): number {
    return this.#env.now() - this.#lastAckAt
  }

  /** The coordinator heard heartbeat `seq`: fresh until a bound after it was sent. */
  acknowledge(seq: number): void {
    const sentAt = this.#sentAt.get(seq)
    if (sentAt === undefined) return
    for (const s of this.#sentAt.keys()) if (s <= seq) this.#sentAt.delete(s)
    this.#lastAckAt = this.#env.now()
    this.#validUntil = Math.max(this.#validUntil, sentAt + this.#options.hangTimeoutMs * VALIDITY_SHARE)
    if (this.fresh) this.#settle(true)
  }

  /**
   * Resolves true when the role is fresh (at once, or after the coordinator acknowledges a new
   * heartbeat), false when it is lost (`onLost` was called, or `stop`).
   */
  renew(): Promise<boolean> {
    if (this.fresh) return Promise.resolve(true)
    return new Promise<boolean>((resolve) => {
      // Waiting before the heartbeat goes: it may give the role up at once (settling the waiters).
      const first = this.#renewWaiters.length === 0
      this.#renewWaiters.push(resolve)
      if (!first) return
      const round = this.#renewRound
      this.#beat()
      // No answer at all (the coordinator itself is gone): give the files up rather than guess.
      this.#env.setTimeout(() => {
        if (round === this.#renewRound) this.#options.onLost()
      }, this.#options.hangTimeoutMs)
    })
  }

  /** Called from inside SQLite while a statement runs: heartbeats at the usual pace. */
  beatWhileBusy(now: number): void {
    if (now - this.#lastBeatAt < this.#options.hangTimeoutMs / HEARTBEATS_PER_BOUND) return
    this.#lastBusyBeatAt = now
    this.#send(now)
  }

  #beat(): void {
    // Acknowledgements cannot be heard while a statement runs: silence counts from its end.
    const heard = Math.max(this.#lastAckAt, this.#lastBusyBeatAt)
    const now = this.#env.now()
    if (now - heard > this.#options.hangTimeoutMs * 2) {
      this.#options.onLost()
      return
    }
    this.#send(now)
  }

  #send(now: number): void {
    const seq = ++this.#seq
    this.#sentAt.set(seq, now)
    this.#lastBeatAt = now
    this.#options.send(seq)
  }

  #settle(fresh: boolean): void {
    const waiters = this.#renewWaiters
    this.#renewWaiters = []
    this.#renewRound++
    for (const resolve of waiters) resolve(fresh)
  }
}
