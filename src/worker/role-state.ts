/**
 * The phases of a worker's role, and the only ways from one to the next (drawn in
 * docs/architecture.md). active-database.ts and role-acquisition.ts move through them; nothing else
 * sets them.
 *
 * - `idle`: no database, no activation under way.
 * - `acquiring`: elected; waiting for the role lock, then opening the files, for the current epoch.
 * - `abandoned`: an activation cancelled before it opened anything. Its lock request cannot be
 *   withdrawn, so it is still pending: when granted it lets the lock go at once, unless a later
 *   election of this worker takes it over first (back to `acquiring`).
 * - `serving`: the files are open and the statement server runs every tab's statements.
 * - `draining`: handing over; only the lease that holds the connection may still finish.
 * - `closing`: statements are refused; the files are being closed and the role lock let go.
 */
export type RoleState = 'idle' | 'acquiring' | 'abandoned' | 'serving' | 'draining' | 'closing'

const NEXT: Readonly<Record<RoleState, readonly RoleState[]>> = {
  // `acquiring` again: a steal supersedes the attempt under way.
  idle: ['acquiring'],
  acquiring: ['acquiring', 'abandoned', 'serving', 'idle'],
  abandoned: ['acquiring', 'idle'],
  serving: ['draining', 'closing'],
  draining: ['closing'],
  closing: ['idle'],
}

export class RoleStateMachine {
  #state: RoleState = 'idle'

  get state(): RoleState {
    return this.#state
  }

  /** An activation holds (or waits for) the role lock: acquiring, abandoned or with the files. */
  get busy(): boolean {
    return this.#state !== 'idle'
  }

  /** Giving the database up: draining or closing. */
  get leaving(): boolean {
    return this.#state === 'draining' || this.#state === 'closing'
  }

  /** Moves to `next`; any other move than the table's is a defect, and throws. */
  to(next: RoleState): void {
    if (!NEXT[this.#state].includes(next)) throw new Error(`Role state: no way from ${this.#state} to ${next}`)
    this.#state = next
  }
}
