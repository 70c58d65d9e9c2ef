/**
 * What a tab can subscribe to about the shared database. Listeners are plain callbacks; a throwing
 * listener is reported to the console and never disturbs the others or the library.
 */
import type { HandoffReason } from '../protocol/message-fields.js'

/** The events of {@link MultiTabOpfsDialect.on}, by name. */
export interface MultiTabEvents {
  /** A tab became the active one (at start-up, or after a hand-off). */
  'active-changed': {
    readonly activeTabId: string
    readonly previousActiveTabId: string | undefined
    /** True when this tab is the new active tab. */
    readonly isThisTab: boolean
    readonly epoch: number
    /**
     * Why the role moved: `elected` (first election), `closed`, `crashed`, `hung`, `manual`,
     * `failed`, `coordinator-lost` (the active worker heard nothing from the coordinator),
     * `hidden` (the active tab was in the background, see `hiddenHandoffMs`).
     */
    readonly reason: HandoffReason
    /** Time from losing the previous active tab to this one serving, in ms (0 for the first). */
    readonly handoffMs: number
  }
  /** A query of this tab failed (it also rejects, as usual): for monitoring. */
  error: {
    readonly error: Error
    /** The error's class name: SqliteError, ActiveTabLostError, ... */
    readonly name: string
    readonly retryable: boolean
  }
  /** The tabs open on this database changed (one joined or left), or the active one did. */
  'tabs-changed': {
    /** Every open tab, oldest first. */
    readonly tabs: readonly string[]
    readonly activeTabId: string | undefined
  }
  /**
   * This tab uses a fallback: `coordinator` (Web Locks instead of a SharedWorker) or `storage`
   * (not OPFS sync access handles). `degraded` is true when data does not outlive the tabs
   * (in-memory storage): the app should tell its user.
   */
  fallback: {
    readonly what: 'coordinator' | 'storage'
    /** What is used instead. */
    readonly chosen: string
    /** Why the preferred one could not be used. */
    readonly reason: string
    readonly degraded: boolean
  }
  /**
   * The active tab stopped serving (it went away, or is handing over: `reason`); queries wait,
   * bounded by `requestTimeoutMs`, for the next one.
   */
  'active-lost': {
    readonly previousActiveTabId: string | undefined
    readonly epoch: number
    readonly reason: HandoffReason
  }
}

export type MultiTabEventName = keyof MultiTabEvents
export type MultiTabListener<K extends MultiTabEventName> = (event: MultiTabEvents[K]) => void

export class TabEvents {
  readonly #listeners = new Map<MultiTabEventName, Set<(event: never) => void>>()

  on<K extends MultiTabEventName>(name: K, listener: MultiTabListener<K>): () => void {
    let set = this.#listeners.get(name)
    if (!set) this.#listeners.set(name, (set = new Set()))
    set.add(listener as (event: never) => void)
    return () => set!.delete(listener as (event: never) => void)
  }

  emit<K extends MultiTabEventName>(name: K, event: MultiTabEvents[K]): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        ;(listener as MultiTabListener<K>)(event)
      } catch (error) {
        console.error(`kysely-multitab: a '${name}' listener threw`, error)
      }
    }
  }
}
