/**
 * What a tab's link to its coordinator (coordinator-link.ts, coordinator-host.ts) uses of the
 * browser beyond a {@link BrowserEnv}: BroadcastChannels (the join channel and channel lines), the
 * SharedWorker, and random line names. Passed in so that the link's choice of coordinator, its
 * joins and its moves can be unit-tested with fakes (test/coordinator-link.test.ts). In a browser
 * it is {@link browserLinkEnv}.
 */
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import type { Line, OpenChannel } from '../protocol/line.js'
import { startCoordinator } from './asset-urls.js'

/** What the link needs of a SharedWorker: its port, and word that its script failed. */
export interface SharedWorkerEnd {
  readonly port: Line
  onerror: ((event: ErrorEvent) => void) | null
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
}

export function browserLinkEnv(env: BrowserEnv = browserEnv()): LinkEnv {
  return {
    ...env,
    openChannel: (name) => new BroadcastChannel(name),
    startSharedWorker: typeof SharedWorker === 'undefined' ? undefined : startCoordinator,
    randomId: () => crypto.randomUUID(),
  }
}
