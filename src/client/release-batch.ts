/**
 * Lease releases on their way to the active worker. A release rides on this tab's next statement
 * if one follows at once (the common case of queries in a loop), else it goes alone: one message,
 * not two, per query.
 */
export class ReleaseBatch {
  #leases: number[] = []
  #scheduled = false
  /** Sends releases alone; false when there is no line to send them on (they stay batched). */
  readonly #sendAlone: (leases: number[]) => boolean

  constructor(sendAlone: (leases: number[]) => boolean) {
    this.#sendAlone = sendAlone
  }

  add(lease: number): void {
    this.#leases.push(lease)
    if (!this.#scheduled) {
      this.#scheduled = true
      this.#awaitNextStatement(RELEASE_HOPS)
    }
  }

  /** The releases to carry on the statement being sent, if any. */
  take(): number[] | undefined {
    if (this.#leases.length === 0) return undefined
    const leases = this.#leases
    this.#leases = []
    return leases
  }

  /** The line they were for is gone: the next holder never had these leases. */
  clear(): void {
    this.#leases = []
  }

  /**
   * Gives this tab's code a few microtasks to send its next statement (Kysely returns a query's
   * rows through several awaits, then the app's loop sends the next one, all in one task): the
   * releases ride on it. If none comes, they go alone, still within the same task. A task of its
   * own per query (a MessageChannel tick) costs more than the statement's own overhead.
   */
  #awaitNextStatement(hops: number): void {
    // A promise reaction rather than queueMicrotask(): cheaper per query in Chromium.
    void RESOLVED.then(() => {
      if (this.#leases.length === 0) {
        this.#scheduled = false
      } else if (hops > 0) {
        this.#awaitNextStatement(hops - 1)
      } else {
        this.#scheduled = false
        if (this.#sendAlone(this.#leases)) this.#leases = []
      }
    })
  }
}

/** Microtasks a release waits for the next statement to carry it (see awaitNextStatement). */
const RELEASE_HOPS = 64
const RESOLVED = Promise.resolve()
