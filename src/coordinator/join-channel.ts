/**
 * The join channel: where a tab without a SharedWorker port (the Web Locks coordinator, or a tab
 * told `use-channel`) finds the serving coordinator. A join names the line the tab opened for
 * everything after it; the coordinator opens the other end. Any script of the origin can post
 * here, so a join is checked before it opens anything, and each line is opened once.
 */
import { PROTOCOL_VERSION, hasVersion, isCurrentVersion } from '../protocol/message-fields.js'
import {
  COORDINATOR_ALIVE_MS,
  parseTabToCoordinator,
  type AliveMessage,
  type ReadyMessage,
} from '../protocol/coordinator-messages.js'
import { isLineName, openLine } from '../protocol/line.js'
import type { Coordinator } from './coordinator.js'
import type { CoordinatorEnv } from './coordinator-env.js'

/** Joins remembered, so a join sent again (a tab that did not hear `welcome` yet) is taken once. */
const MAX_REMEMBERED = 1000
/** How long a line that only carried a `rejected` stays open for it to be delivered. */
export const REJECTED_LINE_MS = 5000

/** What the join channel hands a join to: the coordinator's door for tabs. */
export type JoinTaker = Pick<Coordinator, 'connect' | 'receive'>

/** What the join channel uses of the browser: its channels, and timers for `alive` and a rejected line. */
export type JoinChannelEnv = Pick<CoordinatorEnv, 'openChannel' | 'setTimeout' | 'setInterval'>

/**
 * Listens on the join channel for as long as the runtime lives, says `ready` at once and `alive`
 * every COORDINATOR_ALIVE_MS and to every ping.
 *
 * @param instanceLock this coordinator's lifetime lock: it names the instance in `ready` and
 *   `alive`, and a join addressed to another instance (see JoinMessage.to) is not for this one.
 */
export function serveJoinChannel(coordinator: JoinTaker, channelName: string, instanceLock: string, env: JoinChannelEnv): void {
  const channel = env.openChannel(channelName)
  const seen = new Set<string>()
  const alive = () => channel.postMessage({ t: 'alive', v: PROTOCOL_VERSION, lock: instanceLock } satisfies AliveMessage)
  channel.onmessage = (event: MessageEvent) => {
    const data: unknown = event.data
    if (!hasVersion(data)) return
    if (data.t === 'ping' && isCurrentVersion(data)) alive()
    if (data.t !== 'join') return
    const to = (data as { to?: unknown }).to
    if (to !== undefined && to !== instanceLock) return
    const name = (data as { line?: unknown }).line
    if (!isLineName(name) || seen.has(name)) return
    if (seen.size >= MAX_REMEMBERED) seen.clear()
    seen.add(name)
    if (!isCurrentVersion(data)) {
      // Answered ('rejected', with the reason) on a line that is then let go.
      const line = openLine(name, env.openChannel)
      coordinator.receive(line, data)
      env.setTimeout(() => line.close(), REJECTED_LINE_MS)
      return
    }
    // A malformed join opens no line at all.
    if (!parseTabToCoordinator(data)) return
    const line = openLine(name, env.openChannel)
    coordinator.connect(line)
    coordinator.receive(line, data)
  }
  // Tabs that joined before this coordinator listened (their join was lost) join again on this.
  channel.postMessage({ t: 'ready', v: PROTOCOL_VERSION, lock: instanceLock } satisfies ReadyMessage)
  env.setInterval(alive, COORDINATOR_ALIVE_MS)
}
