/**
 * How long the lease holder has sat idle while others wait, and the one timer that ends it. The
 * timer is armed only while the holder is idle and someone waits: a timer per statement would
 * cost more than the statement. An idle holder costs one number.
 */
export class IdleBound {
  readonly #boundMs: number
  #since: number | undefined
  #timer: ReturnType<typeof setTimeout> | undefined

  /** @param boundMs how long the holder may sit idle while others wait */
  constructor(boundMs: number) {
    this.#boundMs = boundMs
  }

  /** The holder runs something, or the connection changed hands: not idle, nothing armed. */
  busy(): void {
    this.#since = undefined
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }

  /** The holder has nothing to run from now on (it keeps its start if it was idle already). */
  idle(): void {
    this.#since ??= Date.now()
  }

  /** The holder has been idle for the bound. */
  get expired(): boolean {
    return this.#idleFor() >= this.#boundMs
  }

  get armed(): boolean {
    return this.#timer !== undefined
  }

  /** Calls `expire` once the holder has been idle for the bound, unless it is busy first. */
  arm(expire: () => void): void {
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        expire()
      },
      Math.max(0, this.#boundMs - this.#idleFor()),
    )
  }

  #idleFor(): number {
    return this.#since === undefined ? 0 : Date.now() - this.#since
  }
}
