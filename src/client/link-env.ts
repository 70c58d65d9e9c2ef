/**
 * What a tab's membership (membership.ts) and its link to the coordinator (coordinator-link.ts,
 * coordinator-host.ts) use of the browser beyond a {@link BrowserEnv}: BroadcastChannels (the join
 * channel and channel lines), the SharedWorker, random line names, the tab's own DedicatedWorker,
 * the coordinator's DedicatedWorker (hosting the Web Locks coordinator) and the storage persistence
 * question. Passed in so that the link's choice of coordinator, its joins and its moves, the
 * membership's joins, routes and fences, and the host's turns can be unit-tested with fakes
 * (test/coordinator-link.test.ts, test/membership.test.ts, test/coordinator-host.test.ts). In a
 * browser it is {@link browserLinkEnv}.
 */
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import { browserChannel, type Line, type OpenChannel } from '../protocol/line.js'
import { startCoordinator, startCoordinatorHost, startTabWorker } from './asset-urls.js'

/** What the link needs of a SharedWorker: its port, and word that its script failed. */
export interface SharedWorkerEnd {
  readonly port: Line
  onerror: ((event: ErrorEvent) => void) | null
}

/** What a tab needs of its own DedicatedWorker (own-worker.ts); a Worker is one. */
export interface TabWorkerEnd {
  postMessage(message: unknown, transfer?: Transferable[]): void
  onmessage: ((event: MessageEvent) => void) | null
  onerror: ((event: ErrorEvent) => void) | null
  terminate(): void
}

/** What a tab needs of the coordinator's DedicatedWorker when it hosts one (coordinator-host.ts); a Worker is one. */
export interface CoordinatorHostEnd {
  /** An ErrorEvent with a message: the script ran and threw; a plain Event: it failed to load. */
  onerror: ((event: ErrorEvent) => void) | null
  terminate(): void
}

export interface LinkEnv extends BrowserEnv {
  /** The join channel and channel lines. */
  readonly openChannel: OpenChannel
  /**
   * Starts (or connects to) the database's SharedWorker coordinator; may throw, as the browser
   * does for a URL it refuses. Absent where the browser has no SharedWorker.
   */
  readonly startSharedWorker: ((url: string | URL | undefined, name: string) => SharedWorkerEnd) | undefined
  /** A fresh random name, for a channel line. */
  randomId(): string
  /** Starts a tab's own worker, from `url` or the package's tab-worker.js. */
  startTabWorker(url: string | URL | undefined, name: string): TabWorkerEnd
  /**
   * Starts the coordinator as a DedicatedWorker of this tab (the Web Locks coordinator's host),
   * from `url` or the package's coordinator.js; may throw, as the browser does for a URL it refuses.
   */
  startCoordinatorHost(url: string | URL | undefined, name: string): CoordinatorHostEnd
  /**
   * With `ask`, asks the browser to keep this origin's storage under pressure; without, only
   * whether it does. Resolves with whether it does; undefined where the browser cannot tell.
   */
  persistStorage(ask: boolean): Promise<boolean> | undefined
}

export function browserLinkEnv(env: BrowserEnv = browserEnv()): LinkEnv {
  return {
    ...env,
    openChannel: browserChannel,
    startSharedWorker: typeof SharedWorker === 'undefined' ? undefined : startCoordinator,
    randomId: () => crypto.randomUUID(),
    startTabWorker,
    startCoordinatorHost,
    persistStorage: (ask) => (ask ? navigator.storage?.persist?.() : navigator.storage?.persisted?.()),
  }
}
