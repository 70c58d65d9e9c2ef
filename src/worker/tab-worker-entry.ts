/**
 * Entry point of the tab worker: the DedicatedWorker every tab starts for each database.
 *
 * Only a DedicatedWorker can make OPFS synchronous access handles, so this is where the database
 * lives while its tab is the active one. A follower's worker loads no wasm and holds nothing; it
 * waits for the coordinator to say `activate` (with the `warmStandby` option, the one next in line
 * loads the wasm and rehearses SQLite ahead of time, see warm-up.ts).
 */
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import { parseCoordinatorToWorker, type WorkerToCoordinator } from '../protocol/worker-control-messages.js'
import type { InitMessage, OwnWorkerReply } from '../protocol/own-worker-messages.js'
import { CLIENT_REQUEST_TYPES } from '../protocol/statement-messages.js'
import { serializeError } from '../protocol/errors.js'
import { ActiveDatabase } from './active-database.js'
import { debugLog, silent, type DebugLog } from '../protocol/debug-log.js'
import { isLineName, openLine, type Line } from '../protocol/line.js'
import { awaitOwnLine, openOwnLine, type SelfLine } from './own-line.js'

declare const self: DedicatedWorkerGlobalScope

let database: ActiveDatabase | undefined
let ownTabId = ''
let coordinator: Line | undefined
/** The own line the tab's statements now go to (a closed one drops them). */
let ownLine: SelfLine | undefined
let log: DebugLog = silent

function start(init: InitMessage): void {
  // Literal `new URL(..., import.meta.url)`s, which bundlers see and emit. The Asyncify build
  // (storage fallbacks only) sits next to an overridden sync one.
  // A given wasmUrl may be relative (e.g. '/assets/wa-sqlite.wasm'): relative to the page, whose
  // URL this worker does not have; the tab sends it resolved (see TabClient), and self.location
  // is the fallback base.
  const given = init.wasmUrl ? new URL(init.wasmUrl, self.location.href).href : ''
  const wasmUrl = given || new URL('./wa-sqlite.wasm', import.meta.url).href
  const asyncWasmUrl = given
    ? new URL('./wa-sqlite-async.wasm', given).href
    : new URL('./wa-sqlite-async.wasm', import.meta.url).href
  const toCoordinator = (message: WorkerToCoordinator) => coordinator?.postMessage(message)
  log = debugLog(init.debug, `worker ${init.tabId.slice(0, 8)}`)
  ownTabId = init.tabId
  database = new ActiveDatabase(init, wasmUrl, asyncWasmUrl, toCoordinator, log)
  // The worker's first use of Web Locks sets up its lock manager: an activation's first lock
  // request took 10-17 ms, 4-8 ms with this done at start (measured in failovers). Pay it now.
  void navigator.locks.query().catch(() => {})
  listenToCoordinator(openLine(init.coordinatorPort))
}

/** The line to the coordinator; replaced when a crashed coordinator is restarted. */
function listenToCoordinator(port: Line): void {
  coordinator?.close()
  coordinator = port
  const db = database!
  port.onmessage = (event) => {
    if (port !== coordinator) return
    const message = parseCoordinatorToWorker(event.data)
    if (!message) {
      log('dropped a malformed message from the coordinator', { data: event.data })
      return
    }
    if (message.t !== 'ack') log(`coordinator: ${message.t}`, { epoch: (message as { epoch?: number }).epoch })
    switch (message.t) {
      case 'activate':
        db.activate(message.epoch, message.steal, message.at)
        break
      case 'ack':
        db.acknowledge(message.epoch, message.seq)
        break
      case 'attach': {
        const { epoch, tabId, port: line, token } = message
        if (tabId === ownTabId) {
          // Our own tab talks to us over the Worker channel instead (see own-line.ts).
          if (typeof line !== 'string') line.close()
          awaitOwnLine(token, (own) => db.attach(epoch, tabId, own, token))
        } else db.attach(epoch, tabId, openLine(line), token)
        break
      }
      case 'tab-gone':
        db.detach(message.tabId)
        break
      case 'deactivate':
        // About an earlier activation of this worker (answering its stale `activated` or
        // heartbeat), after which the coordinator elected it again: not about this one.
        if (message.epoch >= db.epoch) void db.deactivate({ drain: message.drain === true })
        else log('ignored a deactivate for an earlier epoch', { epoch: message.epoch, current: db.epoch })
        break
      case 'standby':
        db.standby(message.on)
        break
    }
  }
}

/** What a tab sends on a route (see ClientRequest): from our own tab, it comes on the Worker channel. */
const LINE_MESSAGES = new Set<string>(CLIENT_REQUEST_TYPES)

self.onmessage = (event: MessageEvent) => {
  const data = event.data as { t?: unknown; id?: unknown; v?: unknown }
  if (LINE_MESSAGES.has(data?.t as string)) {
    ownLine?.deliver(event)
    return
  }
  void onControlMessage(event, data)
}

async function onControlMessage(event: MessageEvent, data: { t?: unknown; id?: unknown; v?: unknown }): Promise<void> {
  if (data?.t === 'init' && data.v === PROTOCOL_VERSION && !database) {
    try {
      start(event.data as InitMessage)
    } catch (error) {
      // Thrown from a task of its own, it is the worker's `error` event: the tab reports it.
      setTimeout(() => {
        throw error
      })
    }
    return
  }
  if (data?.t === 'own-line' && data.v === PROTOCOL_VERSION) {
    const { token, serial } = data as { token?: unknown; serial?: unknown }
    if (typeof token === 'string' && Number.isSafeInteger(serial)) ownLine = openOwnLine(token, serial as number)
    return
  }
  if (data?.t === 'coordinator-port' && data.v === PROTOCOL_VERSION && database) {
    const port = (event.data as { port?: unknown }).port
    if (port instanceof MessagePort || isLineName(port)) listenToCoordinator(openLine(port))
    return
  }
  if (typeof data?.id !== 'number') return
  const id = data.id
  if (data.t === 'worker-status') {
    const reply: OwnWorkerReply = {
      t: 'reply',
      id,
      value: {
        active: database?.active ?? false,
        openCount: database?.openCount ?? 0,
        attachedTabs: database?.attachedTabs ?? 0,
        subscribers: database?.subscribers ?? 0,
      },
    }
    self.postMessage(reply)
  } else if (data.t === 'close') {
    try {
      await database?.deactivate({ drain: false })
      self.postMessage({ t: 'reply', id } satisfies OwnWorkerReply)
    } catch (error) {
      self.postMessage({ t: 'reply', id, error: serializeError(error) } satisfies OwnWorkerReply)
    }
  }
}
