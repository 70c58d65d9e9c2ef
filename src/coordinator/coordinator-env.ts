/**
 * What the coordinator uses of the browser: a {@link BrowserEnv} (locks, clocks, timers) and
 * BroadcastChannels (the join channel, and the channel lines named in joins), passed in so that
 * its joins, elections and the join channel can be unit-tested with fakes
 * (test/coordinator.test.ts, test/join-channel.test.ts). In a browser it is
 * {@link browserCoordinatorEnv}, made where the coordinator starts (coordinator-entry.ts).
 */
import { browserEnv, type BrowserEnv } from '../protocol/browser-env.js'
import { browserChannel, type OpenChannel } from '../protocol/line.js'

export interface CoordinatorEnv extends BrowserEnv {
  /** The join channel and channel lines. */
  readonly openChannel: OpenChannel
}

/** The browser's own. As in {@link browserEnv}, `locks` is read when used. */
export function browserCoordinatorEnv(): CoordinatorEnv {
  return Object.assign(browserEnv(), { openChannel: browserChannel })
}
