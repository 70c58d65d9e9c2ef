/**
 * Entry point of the coordinator, in either host:
 *
 * - a SharedWorker (every tab of the database connects to the one instance the browser runs per
 *   script URL and name), or
 * - a DedicatedWorker that one tab starts when it hosts the Web Locks coordinator (no SharedWorker,
 *   or forced with `coordinator: 'web-locks'`).
 *
 * Either serves only while it holds the database's coordinator lock, so two hosts never serve one
 * database at once: a SharedWorker that finds the lock taken by a Web Locks host sends its tabs to
 * the join channel (`use-channel`) and waits its turn. A host started to take over from a silent
 * coordinator (its tab frozen, see client/coordinator-watch.ts) steals the lock; a coordinator whose lock is
 * stolen stops at once.
 */
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { UseChannelMessage } from '../protocol/coordinator-messages.js'
import { databaseNamesOfWorker, isTakeOver } from '../protocol/names.js'
import { Coordinator } from './coordinator.js'
import { serveJoinChannel } from './join-channel.js'
import { browserCoordinatorEnv } from './coordinator-env.js'

declare const self: SharedWorkerGlobalScope & { postMessage?: unknown }

const names = databaseNamesOfWorker(self.name)
const instanceLock = `${names.coordinatorLock}:${crypto.randomUUID()}`
const takeOver = isTakeOver(self.name)
/** The browser's locks, clocks, timers and channels, for the coordinator and its join channel. */
const env = browserCoordinatorEnv()
const coordinator = new Coordinator(instanceLock, names.roleLock, env, takeOver)
const forever = () => new Promise<void>(() => {})
/** How long a SharedWorker waits for the coordinator lock before it takes another host as serving. */
const DECIDE_MS = 1000

function serve(): Promise<void> {
  // Requested before any tab is let in, so this instance is first in line for its own lock.
  void env.locks.request(instanceLock, forever)
  serveJoinChannel(coordinator, names.joinChannel, instanceLock, env)
  return forever()
}

/** The coordinator lock was stolen (or never granted): another coordinator serves. */
const stop = () => self.close()

if (typeof self.postMessage === 'function') {
  // A tab's Web Locks host: wait for the lock (a SharedWorker or an earlier host may serve now).
  env.locks.request(names.coordinatorLock, { steal: takeOver }, serve).catch(stop)
} else {
  let state: 'deciding' | 'serving' | 'standby' = 'deciding'
  const early: MessagePort[] = []
  const admit = (port: MessagePort) => {
    if (state === 'serving') coordinator.connect(port)
    else port.postMessage({ t: 'use-channel', v: PROTOCOL_VERSION } satisfies UseChannelMessage)
  }
  self.onconnect = (event: MessageEvent) => {
    const port = event.ports[0]
    if (!port) return
    if (state === 'deciding') early.push(port)
    else admit(port)
  }
  const decided = (serving: boolean) => {
    state = serving ? 'serving' : 'standby'
    for (const port of early.splice(0)) admit(port)
  }
  // Not `ifAvailable`: a host that is just letting the lock go (closing) or a standby queued for it
  // may hold it for an instant; only a lock held past the bound means another coordinator serves.
  env.locks
    .request(names.coordinatorLock, { signal: AbortSignal.timeout(DECIDE_MS) }, () => {
      const serving = serve()
      decided(true)
      return serving
    })
    .catch(() => {
      if (state === 'serving') return stop()
      decided(false)
      env.locks
        .request(names.coordinatorLock, () => {
          const serving = serve()
          state = 'serving'
          return serving
        })
        .catch(stop)
    })
}
