/**
 * Who is here and who is active: the coordinator's state, as pure logic.
 *
 * The active tab is chosen by age (the longest-lived tab first), which keeps the role on a tab the
 * user has kept open rather than on each new one. `epoch` increases with every election, so a
 * message about an older election is recognised as stale wherever it arrives. Epochs follow the
 * wall clock (at least one more than the last, at least the current time in ms), so the epochs of
 * a restarted coordinator are still above every epoch its tabs have seen.
 */
export interface Election {
  readonly tabId: string
  readonly epoch: number
}

/** A tab's place in line: when it first joined any coordinator, then when it joined this one. */
interface Place {
  readonly since: number
  readonly joined: number
}

const before = (a: Place, b: Place) => a.since < b.since || (a.since === b.since && a.joined < b.joined)

export class TabRegistry {
  readonly #tabs = new Map<string, Place>()
  #joined = 0
  #active: string | undefined
  #ready = false
  #epoch = 0
  readonly #clock: () => number

  constructor(clock: () => number = Date.now) {
    this.#clock = clock
  }

  get epoch(): number {
    return this.#epoch
  }

  /** The elected tab, ready or still opening the database. */
  get active(): string | undefined {
    return this.#active
  }

  /** Whether the active tab has the database open and can take requests. */
  get ready(): boolean {
    return this.#ready
  }

  get size(): number {
    return this.#tabs.size
  }

  has(tabId: string): boolean {
    return this.#tabs.has(tabId)
  }

  /** Oldest first. */
  tabIds(): string[] {
    return [...this.#tabs].sort(([, a], [, b]) => (before(a, b) ? -1 : 1)).map(([tabId]) => tabId)
  }

  /** A restarted coordinator continues the epochs its tabs have seen, so their routes stay ordered. */
  observeEpoch(epoch: number): void {
    if (epoch > this.#epoch && !this.#active) this.#epoch = epoch
  }

  /**
   * Adds a tab; false if it was already here. `since`: when the tab first joined a coordinator
   * (a restarted one keeps the tabs in their old order); by default, now.
   */
  add(tabId: string, since: number = this.#clock()): boolean {
    if (this.#tabs.has(tabId)) return false
    this.#tabs.set(tabId, { since, joined: ++this.#joined })
    return true
  }

  /** Removes a tab; says whether it was the active one (whose role is then vacant). */
  remove(tabId: string): { wasActive: boolean } {
    if (!this.#tabs.delete(tabId)) return { wasActive: false }
    if (this.#active !== tabId) return { wasActive: false }
    this.#active = undefined
    this.#ready = false
    return { wasActive: true }
  }

  /** Picks the oldest tab not in `skip` as the next active one, if the role is vacant. */
  beginElection(skip: ReadonlySet<string> = new Set()): Election | undefined {
    if (this.#active) return undefined
    const best = this.#oldest(skip)
    if (!best) return undefined
    this.#active = best
    this.#ready = false
    this.#epoch = Math.max(this.#epoch + 1, Math.floor(this.#clock()))
    return { tabId: best, epoch: this.#epoch }
  }

  /**
   * The tab an election would pick if the active tab went away now (none while the role is vacant
   * or opening): the one a warm standby prepares.
   */
  nextInLine(skip: ReadonlySet<string> = new Set()): string | undefined {
    if (!this.#active || !this.#ready) return undefined
    return this.#oldest(skip, this.#active)
  }

  #oldest(skip: ReadonlySet<string>, except?: string): string | undefined {
    let best: string | undefined
    let bestPlace: Place | undefined
    for (const [tabId, place] of this.#tabs) {
      if (tabId !== except && !skip.has(tabId) && (!bestPlace || before(place, bestPlace))) {
        best = tabId
        bestPlace = place
      }
    }
    return best
  }

  /** The elected tab opened the database; false if the message is about a stale election. */
  markReady(tabId: string, epoch: number): boolean {
    if (this.#active !== tabId || this.#epoch !== epoch || this.#ready) return false
    this.#ready = true
    return true
  }

  /** The elected tab could not open the database; false if stale. The role is vacant again. */
  abandon(tabId: string, epoch: number): boolean {
    if (this.#active !== tabId || this.#epoch !== epoch) return false
    this.#active = undefined
    this.#ready = false
    return true
  }
}
