/**
 * A tab's watch on the Web Locks coordinator that welcomed it: what it heard and when, the ping,
 * and the take-over, one tab at a time (see coordinator-silence.ts for when, and why).
 */
import { PROTOCOL_VERSION, type PingMessage } from '../protocol/messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import { silenceCheckMs, silenceVerdict } from './coordinator-silence.js'

export interface WatchActions {
  /** Posts on the join channel. */
  readonly post: (message: PingMessage) => void
  /** Joins the coordinator of this lock, which took over from the silent one. */
  readonly move: (lock: string) => void
  /** Steals the host lock and starts a coordinator that steals the coordinator lock. */
  readonly takeOver: () => void
}

export class CoordinatorWatch {
  readonly #hangTimeoutMs: number
  /** Held by the tab taking over, so that the others wait for the coordinator it starts. */
  readonly #takeOverLock: string
  readonly #act: WatchActions
  readonly #log: DebugLog
  /** The lock of the coordinator that last welcomed this tab. */
  #instance: string | undefined
  #heardAt = 0
  #pingedAt: number | undefined
  /** Another coordinator heard since the ping. */
  #otherSince: string | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #takingOver = false

  constructor(hangTimeoutMs: number, takeOverLock: string, act: WatchActions, log: DebugLog) {
    this.#hangTimeoutMs = hangTimeoutMs
    this.#takeOverLock = takeOverLock
    this.#act = act
    this.#log = log
  }

  /** The coordinator that welcomed this tab last, if any did. */
  get instance(): string | undefined {
    return this.#instance
  }

  /** A coordinator welcomed this tab: watch it from now on. */
  welcomed(lock: string): void {
    this.#instance = lock
    this.heard()
    this.#timer ??= setInterval(() => this.#look(), silenceCheckMs(this.#hangTimeoutMs))
  }

  /** This tab's coordinator spoke, or the tab just joined (its silence counts from now). */
  heard(): void {
    this.#heardAt = performance.now()
    this.#pingedAt = undefined
    this.#otherSince = undefined
  }

  /** Another coordinator said it is alive: this tab moves to it if its own stays silent. */
  heardOther(lock: string): void {
    if (this.#pingedAt !== undefined) this.#otherSince = lock
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #look(): void {
    if (this.#instance === undefined) return
    const verdict = silenceVerdict(
      { now: performance.now(), fromCoordinatorAt: this.#heardAt, pingedAt: this.#pingedAt, otherSince: this.#otherSince },
      this.#hangTimeoutMs,
    )
    if (verdict.do === 'ping') {
      this.#pingedAt = performance.now()
      this.#act.post({ t: 'ping', v: PROTOCOL_VERSION })
    } else if (verdict.do === 'move') {
      this.heard()
      this.#act.move(verdict.to)
    } else if (verdict.do === 'take-over') {
      this.#takeOver()
    }
  }

  /**
   * The coordinator is silent and answers no ping: its tab is frozen (or its worker hangs), with
   * the host and coordinator locks held. One tab at a time (the take-over lock) takes over; the
   * others wait for the new coordinator's `ready`, or try again if it never comes.
   */
  #takeOver(): void {
    if (this.#takingOver) return
    this.#takingOver = true
    const silentSince = this.#heardAt
    void navigator.locks
      .request(this.#takeOverLock, { ifAvailable: true }, async (lock) => {
        // Another tab is taking over; or the coordinator spoke meanwhile.
        if (!lock || this.#timer === undefined || this.#heardAt !== silentSince) return
        this.#log('coordinator: silent, taking it over', { instance: this.#instance })
        this.#act.takeOver()
        // Held while the new coordinator starts, so that no other tab steals from it.
        await new Promise((r) => setTimeout(r, this.#hangTimeoutMs))
      })
      .catch(() => {})
      .finally(() => (this.#takingOver = false))
  }
}
