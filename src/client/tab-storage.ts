/**
 * What a tab knows of where the database is kept: whether the browser keeps this origin's storage
 * under pressure (asked once, when the tab joins), and the active worker's storage, from each
 * route. A fallback storage is announced once per storage (the `fallback` event), and an in-memory
 * one is also warned of on the console: nothing in it outlives the active tab.
 */
import type { StorageKind } from '../protocol/message-fields.js'
import type { LinkEnv } from './link-env.js'
import type { TabEvents } from './tab-events.js'

export class TabStorage {
  readonly #filename: string
  readonly #events: TabEvents
  #kind: StorageKind | undefined
  /** Whether the browser keeps this origin's storage under pressure (undefined: not known yet). */
  persisted: boolean | undefined

  constructor(filename: string, events: TabEvents) {
    this.#filename = filename
    this.#events = events
  }

  /** Where the active worker keeps the database, from the last route. */
  get kind(): StorageKind | undefined {
    return this.#kind
  }

  /** Asks the browser to keep the storage (`ask`: the `persistentStorage` option), or whether it does. */
  askPersisted(env: Pick<LinkEnv, 'persistStorage'>, ask: boolean): void {
    void env
      .persistStorage(ask)
      ?.then((persisted) => (this.persisted = persisted))
      .catch(() => {})
  }

  /** The active worker's storage, from a route: a fallback is announced once per storage. */
  inUse(storage: StorageKind, reason: string | undefined): void {
    if (storage === this.#kind) return
    this.#kind = storage
    const degraded = storage === 'memory'
    if (degraded) {
      console.warn(
        `kysely-multitab: '${this.#filename}' is IN MEMORY: nothing persists, and a hand-off to another tab starts empty` +
          (reason ? ` (${reason})` : ' (storage: memory was asked for)'),
      )
    }
    if (reason) this.#events.emit('fallback', { what: 'storage', chosen: storage, reason, degraded })
  }
}
