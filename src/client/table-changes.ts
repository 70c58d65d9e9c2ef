/**
 * Change notifications in a tab: listeners for "these tables changed", fed by the active worker
 * after each commit, and an "everything may have changed" notice after a hand-off (commits may
 * have happened while no worker could tell this tab). The worker is asked to send anything only
 * while this tab has at least one listener.
 */

/** What changed: the tables a committed transaction wrote, or `'all'` after a hand-off or a schema change. */
export interface TablesChanged {
  /** The tables written (only those the listener asked about), or `'all'` if anything may have changed. */
  readonly tables: ReadonlySet<string> | 'all'
  /**
   * `commit`: a transaction committed (in any tab, this one included); `handoff`: the active tab
   * changed; `schema`: a committed transaction changed the schema (a migration, an import, any
   * CREATE, DROP or ALTER), so a query may now read other tables (a redefined view, a new trigger).
   */
  readonly reason: 'commit' | 'handoff' | 'schema'
}

export type TablesChangedListener = (change: TablesChanged) => void

interface Subscription {
  readonly tables: ReadonlySet<string> | undefined
  readonly listener: TablesChangedListener
}

export class TableChanges {
  readonly #subscriptions = new Set<Subscription>()
  readonly #setSubscribed: (on: boolean) => void

  /** `setSubscribed` tells the active worker whether this tab wants notifications at all. */
  constructor(setSubscribed: (on: boolean) => void) {
    this.#setSubscribed = setSubscribed
  }

  add(tables: readonly string[] | undefined, listener: TablesChangedListener): () => void {
    const subscription: Subscription = { tables: tables ? new Set(tables) : undefined, listener }
    this.#subscriptions.add(subscription)
    if (this.#subscriptions.size === 1) this.#setSubscribed(true)
    return () => {
      if (!this.#subscriptions.delete(subscription)) return
      if (this.#subscriptions.size === 0) this.#setSubscribed(false)
    }
  }

  get active(): boolean {
    return this.#subscriptions.size > 0
  }

  committed(tables: readonly string[]): void {
    for (const { tables: wanted, listener } of [...this.#subscriptions]) {
      const hit = wanted ? tables.filter((t) => wanted.has(t)) : tables
      if (hit.length > 0) call(listener, { tables: new Set(hit), reason: 'commit' })
    }
  }

  handedOff(): void {
    this.#all('handoff')
  }

  schemaChanged(): void {
    this.#all('schema')
  }

  #all(reason: 'handoff' | 'schema'): void {
    for (const { listener } of [...this.#subscriptions]) call(listener, { tables: 'all', reason })
  }
}

function call(listener: TablesChangedListener, change: TablesChanged): void {
  try {
    listener(change)
  } catch (error) {
    console.error('kysely-multitab: a table-change listener threw', error)
  }
}
