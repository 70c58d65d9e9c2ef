/**
 * A tab's watch on the Web Locks coordinator that welcomed it: what it heard and when, the ping,
 * and the take-over, one tab at a time (see coordinator-silence.ts for when, and why).
 */
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { PingMessage } from '../protocol/coordinator-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import { silenceCheckMs, silenceVerdict } from './coordinator-silence.js'

export interface WatchActions {
  /** Posts on the join channel. */
  readonly post: (message: PingMessage) => void
  /** Joins the coordinator of this lock, which took over from the silent one. */
  readonly move: (lock: string) => void
  /** Steals the host lock and starts a coordinator that steals the coordinator lock. */
  readonly takeOver: () => void
}

/** What the watch uses of the browser: the take-over lock, its clock and its timers. */
export type WatchEnv = Pick<BrowserEnv, 'locks' | 'now' | 'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval'>

export class CoordinatorWatch {
  readonly #hangTimeoutMs: number
  /** Held by the tab taking over, so that the others wait for the coordinator it starts. */
  readonly #takeOverLock: string
  readonly #act: WatchActions
  readonly #log: DebugLog
  readonly #env: WatchEnv
  /** The lock of the coordinator that last welcomed this tab. */
  #instance: string | undefined
  #heardAt = 0
  #pingedAt: number | undefined
  /** Another coordinator heard since the ping. */
  #otherSince: string | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #takingOver = false
  /** When another tab was first found taking over, in this silence (see #takeOver). */
  #deniedAt: number | undefined
  /** Lets the take-over lock go, while this tab holds it after taking over. */
  #endHold: (() => void) | undefined

  constructor(hangTimeoutMs: number, takeOverLock: string, act: WatchActions, log: DebugLog, env: WatchEnv = browserEnv()) {
    this.#hangTimeoutMs = hangTimeoutMs
    this.#takeOverLock = takeOverLock
    this.#act = act
    this.#log = log
    this.#env = env
  }

  /** The coordinator that welcomed this tab last, if any did. */
  get instance(): string | undefined {
    return this.#instance
  }

  /** A coordinator welcomed this tab: watch it from now on. */
  welcomed(lock: string): void {
    // The coordinator this tab started (or another tab's) is serving: the hold has done its job.
    if (lock !== this.#instance) this.#endHold?.()
    this.#instance = lock
    this.heard()
    this.#timer ??= this.#env.setInterval(() => this.#look(), silenceCheckMs(this.#hangTimeoutMs))
  }

  /** This tab's coordinator spoke, or the tab just joined (its silence counts from now). */
  heard(): void {
    this.#heardAt = this.#env.now()
    this.#pingedAt = undefined
    this.#otherSince = undefined
    this.#deniedAt = undefined
  }

  /** Another coordinator said it is alive: this tab moves to it if its own stays silent. */
  heardOther(lock: string): void {
    if (this.#pingedAt !== undefined) this.#otherSince = lock
  }

  stop(): void {
    this.#env.clearInterval(this.#timer)
    this.#timer = undefined
    this.#endHold?.()
  }

  #look(): void {
    if (this.#instance === undefined) return
    const verdict = silenceVerdict(
      { now: this.#env.now(), fromCoordinatorAt: this.#heardAt, pingedAt: this.#pingedAt, otherSince: this.#otherSince },
      this.#hangTimeoutMs,
    )
    if (verdict.do === 'ping') {
      this.#pingedAt = this.#env.now()
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
   * the host and coordinator locks held. One tab at a time takes over (the take-over lock, held
   * until its coordinator speaks, or one hang bound); the others wait for that one's `ready`. A
   * take-over lock held a whole bound more while the silence lasts is stolen: the tab holding it
   * may be frozen too, and keep it.
   */
  #takeOver(): void {
    if (this.#takingOver) return
    this.#takingOver = true
    const silentSince = this.#heardAt
    const now = this.#env.now()
    const steal = this.#deniedAt !== undefined && now - this.#deniedAt >= this.#hangTimeoutMs
    void this.#env.locks
      .request(this.#takeOverLock, steal ? { steal: true } : { ifAvailable: true }, async (lock) => {
        if (!lock) {
          this.#deniedAt ??= now
          return
        }
        // The coordinator spoke meanwhile, or this tab left.
        if (this.#timer === undefined || this.#heardAt !== silentSince) return
        this.#log('coordinator: silent, taking it over', { instance: this.#instance, steal })
        this.#act.takeOver()
        // Held while the new coordinator starts, so that no other tab takes over from it: until a
        // coordinator other than the silent one welcomes this tab, the tab leaves, or one bound.
        await new Promise<void>((end) => {
          const bound = this.#env.setTimeout(() => this.#endHold?.(), this.#hangTimeoutMs)
          this.#endHold = () => {
            this.#env.clearTimeout(bound)
            this.#endHold = undefined
            end()
          }
        })
      })
      .catch(() => {}) // stolen by a tab that found this one silent for as long
      .finally(() => (this.#takingOver = false))
  }
}
