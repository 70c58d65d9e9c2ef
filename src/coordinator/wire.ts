/** What the coordinator sends, on which kind of line, and the lines it brokers. */
import { PROTOCOL_VERSION, type HandoffReason } from '../protocol/message-fields.js'
import type { CoordinatorToTab, RouteMessage } from '../protocol/coordinator-messages.js'
import type { CoordinatorToWorker } from '../protocol/worker-control-messages.js'
import { newLine, transferOf, type Line } from '../protocol/line.js'

/**
 * How long a goodbye (a tab's `leave`, or `left` on the join channel) may trail the lock release
 * it goes with: the two travel apart, and Firefox may deliver the release first.
 */
export const GOODBYE_GRACE_MS = 50

export const isMessagePort = (line: Line): boolean => typeof MessagePort !== 'undefined' && line instanceof MessagePort

export function sendTab(port: Line, message: CoordinatorToTab): void {
  port.postMessage(message)
}

export function sendWorker(port: Line, message: CoordinatorToWorker): void {
  port.postMessage(message)
}

export interface Route {
  readonly epoch: number
  readonly activeTabId: string
  readonly reason: HandoffReason
  readonly storage: Pick<RouteMessage, 'storage' | 'storageReason'>
}

/**
 * A direct line from a tab to the active worker: one end to the worker (`attach`), the other to
 * the tab (`route`), with a token known only to the two ends (the worker serves the line once it
 * sees it). A MessageChannel when both ends reach the coordinator by port, else a channel line.
 */
export function brokerRoute(worker: Line, tab: Line, tabId: string, route: Route): void {
  const [workerEnd, tabEnd] = newLine(isMessagePort(worker) && isMessagePort(tab))
  const token = crypto.randomUUID()
  worker.postMessage(
    { t: 'attach', v: PROTOCOL_VERSION, epoch: route.epoch, tabId, port: workerEnd, token } satisfies CoordinatorToWorker,
    transferOf(workerEnd),
  )
  tab.postMessage(
    {
      t: 'route',
      v: PROTOCOL_VERSION,
      epoch: route.epoch,
      activeTabId: route.activeTabId,
      reason: route.reason,
      port: tabEnd,
      token,
      ...route.storage,
    } satisfies CoordinatorToTab,
    transferOf(tabEnd),
  )
}
