/**
 * What a restarted coordinator does about the worker that may still hold the files (the role
 * lock) from an election of the coordinator before it.
 *
 * - Joined first by a tab that does not hold them: if some worker still holds the role lock, its
 *   tab is about to rejoin, and electing another would only make that one wait for the files.
 *   So it waits, at most one hang bound. A holder that has not rejoined by then cannot (its tab
 *   is frozen, as when it hosted the coordinator this one took over from): the tab elected steals
 *   the role lock, as from a hung one.
 * - A tab that says its worker holds them ends the wait, and is elected first.
 * - A coordinator that took over from a silent one (its tab frozen, see
 *   client/coordinator-silence.ts) waits a share of the bound only, and gives the holder as long
 *   to answer when elected: it has nothing to open, so a live one answers at once, while one in
 *   the frozen tab never does, and every other tab waits meanwhile.
 */
import type { BrowserEnv } from '../protocol/browser-env.js'
import { GOODBYE_GRACE_MS } from './wire.js'

const TAKEN_OVER_HOLDER_SHARE = 0.25
const TAKEN_OVER_HOLDER_MIN_MS = 500
/** How often to look whether the role lock is still held. */
const HOLDER_POLL_MS = 100

export class HolderWait {
  readonly #env: Pick<BrowserEnv, 'locks' | 'setTimeout' | 'clearTimeout'>
  readonly #roleLock: string | undefined
  readonly #takenOver: boolean
  /** The wait is over: elect, `steal`ing the role lock from a holder that never rejoined. */
  readonly #done: (steal: boolean) => void
  #begun = false
  #timer: ReturnType<typeof setTimeout> | undefined
  /** The tab whose worker says it holds the files, until it is elected. */
  #claim: string | undefined

  constructor(
    env: Pick<BrowserEnv, 'locks' | 'setTimeout' | 'clearTimeout'>,
    roleLock: string | undefined,
    takenOver: boolean,
    done: (steal: boolean) => void,
  ) {
    this.#env = env
    this.#roleLock = roleLock
    this.#takenOver = takenOver
    this.#done = done
  }

  /** Elections wait. */
  get waiting(): boolean {
    return this.#timer !== undefined
  }

  /** A tab that does not hold the files joined, saying a coordinator served before: wait (once). */
  begin(hangTimeoutMs: number): void {
    if (this.#begun || !this.#roleLock) return
    this.#begun = true
    const roleLock = this.#roleLock
    const wait = (this.#timer = this.#env.setTimeout(() => this.#end(wait, true), this.#share(hangTimeoutMs)))
    // Polled: a holder that died with the old coordinator may still be listed for a moment.
    const check = () => {
      if (this.#timer !== wait) return
      this.#env.locks
        .query()
        .then((snapshot) => {
          // No holder: the old active tab went with the old coordinator. Its goodbye (on the
          // join channel) may still be on its way to the tabs, so they can name the reason.
          if (!snapshot.held?.some((lock) => lock.name === roleLock))
            this.#env.setTimeout(() => this.#end(wait, false), GOODBYE_GRACE_MS)
          else this.#env.setTimeout(check, HOLDER_POLL_MS)
        })
        .catch(() => this.#end(wait, false))
    }
    check()
  }

  /** `tabId`'s worker holds the files: the wait is over, for good (the caller elects it). */
  claimed(tabId: string): void {
    this.#begun = true
    this.#claim = tabId
    this.#env.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** How long `tabId`, elected now with `boundMs`, may take to answer. */
  electionBound(tabId: string, boundMs: number): number {
    const claimant = this.#claim === tabId
    this.#claim = undefined
    return claimant ? this.#share(boundMs) : boundMs
  }

  #share(boundMs: number): number {
    return this.#takenOver ? Math.max(TAKEN_OVER_HOLDER_MIN_MS, boundMs * TAKEN_OVER_HOLDER_SHARE) : boundMs
  }

  #end(wait: ReturnType<typeof setTimeout>, steal: boolean): void {
    if (this.#timer !== wait) return
    this.#env.clearTimeout(wait)
    this.#timer = undefined
    this.#done(steal)
  }
}
