/**
 * The leases revoked while they held the connection, with the reason: a later statement of one
 * fails with that reason instead of taking the connection anew, since the transaction it belongs
 * to was rolled back under it. Its tab's release forgets it. Bounded: the oldest goes first.
 */
const REVOKED_MEMORY = 1024

export class RevokedLeases {
  readonly #reasons = new Map<string, Error>()

  /** Why the lease with `key` was revoked, if it was. */
  reasonFor(key: string): Error | undefined {
    // Usually none is remembered: the key is not hashed then (this is per statement).
    return this.#reasons.size > 0 ? this.#reasons.get(key) : undefined
  }

  remember(key: string, reason: Error): void {
    this.#reasons.set(key, reason)
    if (this.#reasons.size > REVOKED_MEMORY) {
      this.#reasons.delete(this.#reasons.keys().next().value as string)
    }
  }

  forget(key: string): void {
    if (this.#reasons.size > 0) this.#reasons.delete(key)
  }
}
