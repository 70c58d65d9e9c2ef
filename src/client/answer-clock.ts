/**
 * The bound on a statement sent on a live line: how long it may go unanswered (queued behind other
 * tabs' leases and running included) before it fails. Counted in sweeps of the statements in
 * flight, so no clock is read per statement; the sweep timer runs only while some are in flight.
 * Its timer is passed in (`env`), so the bound can be unit-tested on a manual clock.
 */
import type { BrowserEnv } from '../protocol/browser-env.js'

export class AnswerClock {
  readonly #answerTimeoutMs: number
  readonly #statementTimeoutMs: number
  readonly #sweep: () => void
  readonly #env: Pick<BrowserEnv, 'setInterval' | 'clearInterval'>
  #timer: ReturnType<typeof setInterval> | undefined

  /**
   * `answerTimeoutMs` includes the active worker's `statementTimeoutMs`; a statement with a longer
   * limit of its own adds the difference. `sweep` runs SWEEPS_PER_BOUND times per bound.
   */
  constructor(
    answerTimeoutMs: number,
    statementTimeoutMs: number,
    sweep: () => void,
    env: Pick<BrowserEnv, 'setInterval' | 'clearInterval'>,
  ) {
    this.#answerTimeoutMs = answerTimeoutMs
    this.#statementTimeoutMs = statementTimeoutMs
    this.#sweep = sweep
    this.#env = env
  }

  /** A statement is in flight: sweeps run until stop(). */
  start(): void {
    if (this.#timer === undefined && this.#answerTimeoutMs !== Infinity) {
      this.#timer = this.#env.setInterval(this.#sweep, this.#answerTimeoutMs / SWEEPS_PER_BOUND)
    }
  }

  stop(): void {
    this.#env.clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The sweeps after which a statement with its own limit `timeoutMs` (if any) fails. */
  maxSweeps(timeoutMs: number | undefined): number {
    if (timeoutMs === undefined || timeoutMs <= this.#statementTimeoutMs) return SWEEPS_PER_BOUND
    const bound = this.#answerTimeoutMs + timeoutMs - this.#statementTimeoutMs
    return Math.ceil((SWEEPS_PER_BOUND * bound) / this.#answerTimeoutMs)
  }

  /** How long a statement failing after `maxSweeps` may go unanswered, in milliseconds. */
  boundMs(maxSweeps: number): number {
    return Math.round((maxSweeps * this.#answerTimeoutMs) / SWEEPS_PER_BOUND)
  }
}

/** Sweeps of the statements in flight per `answerTimeoutMs`. */
const SWEEPS_PER_BOUND = 4
