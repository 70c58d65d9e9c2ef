/**
 * The hang watch on the worker elected or serving: it must show progress (a heartbeat, or its
 * answer to the election) at least once per bound. Looked at HANG_CHECKS_PER_BOUND times per
 * bound; when the bound has passed in silence, the watch stops and says so, once.
 *
 * A look that comes a whole bound after the one before means this runtime itself was stopped (a
 * frozen tab hosting the Web Locks coordinator): silence it could not hear proves nothing, so the
 * bound starts again. A coordinator taken over meanwhile learns it (its lock was stolen) and
 * stops before it would call a live worker hung.
 */
import type { BrowserEnv } from '../protocol/browser-env.js'

const HANG_CHECKS_PER_BOUND = 10

export class HeartbeatWatch {
  readonly #env: Pick<BrowserEnv, 'now' | 'setInterval' | 'clearInterval'>
  readonly #silent: () => void
  #boundMs = 0
  #lastBeat = 0
  #lastLook = 0
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(env: Pick<BrowserEnv, 'now' | 'setInterval' | 'clearInterval'>, silent: () => void) {
    this.#env = env
    this.#silent = silent
  }

  /** Watches from now with `boundMs`, in place of any earlier watch. */
  start(boundMs: number): void {
    this.stop()
    this.#boundMs = boundMs
    this.#lastBeat = this.#lastLook = this.#env.now()
    this.#timer = this.#env.setInterval(() => {
      const now = this.#env.now()
      if (now - this.#lastLook >= this.#boundMs) this.#lastBeat = now
      this.#lastLook = now
      if (now - this.#lastBeat <= this.#boundMs) return
      this.stop()
      this.#silent()
    }, boundMs / HANG_CHECKS_PER_BOUND)
  }

  /** The worker showed progress. */
  beat(): void {
    this.#lastBeat = this.#env.now()
  }

  stop(): void {
    this.#env.clearInterval(this.#timer)
    this.#timer = undefined
  }
}
