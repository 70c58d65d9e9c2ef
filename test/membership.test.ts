// A tab's membership on fakes: its own worker (answering as an idle one), a SharedWorker whose port
// the test answers for the coordinator, in-memory channels and Web Locks, a manual clock. What the
// tab tells the coordinator when it joins, and what it does with what the coordinator says.
import { describe, expect, it } from 'vitest'
import { Membership } from '../src/client/membership.js'
import { RequestRouter } from '../src/client/request-router.js'
import { TabEvents, type MultiTabEvents } from '../src/client/tab-events.js'
import { resolveConfig, type MultiTabOpfsDialectConfig } from '../src/dialect/options.js'
import type { JoinMessage } from '../src/protocol/coordinator-messages.js'
import { StorageUnavailableError } from '../src/protocol/errors.js'
import { openLine, type LineRef } from '../src/protocol/line.js'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { databaseNames } from '../src/protocol/names.js'
import { fakeLinkEnv } from './support/fake-channels.js'

const v = PROTOCOL_VERSION
const names = databaseNames('app.db')
const identity = { tabId: 'tab-a', secret: 'secret-a' }
const tabLock = names.tabLockPrefix + identity.tabId
/** The fake env's wall clock at 0 (see fake-env.ts). */
const START = 1_800_000_000_000

type World = ReturnType<typeof fakeLinkEnv>
type Posted = { t?: string; [field: string]: unknown }

/**
 * A tab that joined, as TabClient starts it, in a world where another tab hosts the Web Locks
 * coordinator (this one only queues to). `ready` sets the world up before the tab joins.
 */
async function joinedTab(
  config: Partial<Omit<MultiTabOpfsDialectConfig, 'filename'>> = {},
  ready: (w: World) => void = () => {},
) {
  const w = fakeLinkEnv()
  w.locks.hold(names.hostLock)
  ready(w)
  const joinChannel: Posted[] = []
  const others = w.hub.open(names.joinChannel)
  others.onmessage = (event) => void joinChannel.push(event.data as Posted)
  const router = new RequestRouter(15_000)
  router.identify(identity.tabId)
  const events = new TabEvents()
  const heard = {
    tabs: [] as MultiTabEvents['tabs-changed'][],
    fallbacks: [] as MultiTabEvents['fallback'][],
    left: [] as string[],
  }
  events.on('tabs-changed', (event) => void heard.tabs.push(event))
  events.on('fallback', (event) => void heard.fallbacks.push(event))
  let closed = false
  const membership = new Membership(
    resolveConfig({ filename: 'app.db', ...config }),
    names,
    identity,
    router,
    events,
    () => {},
    { onLeft: (tabId) => void heard.left.push(tabId), closed: () => closed },
    w.env,
  )
  await membership.join()
  return {
    w,
    router,
    membership,
    heard,
    joinChannel,
    /** Another tab, or a coordinator, says `message` on the join channel. */
    say: (message: unknown) => others.postMessage(message),
    /** The SharedWorker port the tab uses now: the test answers on it for the coordinator. */
    port: () => w.workers.at(-1)!.port,
    /** The tab's own worker now. */
    worker: () => w.tabWorkers.at(-1)!,
    /** Closes as TabClient does: marked closed, statements failed, then the membership closed. */
    close: async () => {
      closed = true
      router.close()
      await membership.close()
    },
  }
}

/** Lets lock callbacks, channel deliveries and the promises after them run, a few hops deep. */
async function flush(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise<void>((r) => setImmediate(r))
}

async function held(w: World, lock: string): Promise<boolean> {
  const { held } = await w.locks.query()
  return held!.some((l) => l.name === lock)
}

/** Whether `a` and `b` are the two ends of one line: what is posted on one arrives at the other. */
async function sameLine(a: LineRef, b: LineRef): Promise<boolean> {
  if (typeof a === 'string' || typeof b === 'string') return a === b
  const arrived = new Promise<boolean>((resolve) => {
    b.onmessage = (event) => resolve(event.data === 'probe')
    setTimeout(() => resolve(false), 200)
  })
  a.postMessage('probe')
  const same = await arrived
  a.close()
  b.close()
  return same
}

/** The next message to arrive on `port`. */
function nextMessage(port: MessagePort): Promise<unknown> {
  return new Promise((resolve) => (port.onmessage = (event) => resolve(event.data)))
}

function route(epoch: number, activeTabId: string, port: LineRef, extra: Record<string, unknown> = {}) {
  return { t: 'route', v, epoch, activeTabId, reason: 'elected', port, token: `token-${epoch}`, storage: 'opfs', ...extra }
}

describe('Membership: joining', () => {
  it('holds its lifetime lock, starts its worker, and joins with its identity, lock and worker line', async () => {
    const t = await joinedTab()
    expect(await held(t.w, tabLock)).toBe(true)
    expect(t.w.tabWorkers).toHaveLength(1)
    expect(t.worker().name).toBe('kysely-multitab app.db')
    const [init] = t.worker().sent('init')
    expect(init).toMatchObject({ t: 'init', v, tabId: 'tab-a', filename: 'app.db', roleLock: names.roleLock })
    expect(t.membership.coordinator).toBe('shared-worker')
    expect(t.port().posted).toHaveLength(1)
    const join = t.port().posted[0] as JoinMessage
    expect(join).toMatchObject({
      t: 'join',
      v,
      tabId: 'tab-a',
      secret: 'secret-a',
      tabLock,
      epoch: 0,
      holder: false,
      since: START,
      hangTimeoutMs: 4000,
      visible: true,
      serial: 1,
    })
    expect(await sameLine(init!.coordinatorPort as LineRef, join.workerPort)).toBe(true)
    await t.close()
  })

  it('asks the browser whether it keeps the storage, or asks it to keep it with persistentStorage', async () => {
    const asked = await joinedTab({}, (w) => (w.storage.persisted = false))
    await flush()
    expect(asked.w.storage.asked).toEqual([false])
    expect(asked.membership.storage.persisted).toBe(false)
    await asked.close()
    const kept = await joinedTab({ persistentStorage: true }, (w) => (w.storage.persisted = true))
    await flush()
    expect(kept.w.storage.asked).toEqual([true])
    expect(kept.membership.storage.persisted).toBe(true)
    await kept.close()
  })

  it('on the join channel (Web Locks), joins with a channel line and opens its routes on the env channels', async () => {
    const t = await joinedTab({ coordinator: 'web-locks' })
    await flush()
    expect(t.w.workers).toEqual([])
    const join = t.joinChannel.find((m) => m.t === 'join') as unknown as JoinMessage
    expect(join).toMatchObject({ tabId: 'tab-a', tabLock, line: 'line-0001' })
    expect(join.workerPort).toBe(t.worker().sent('init')[0]!.coordinatorPort)
    const active: unknown[] = []
    openLine('route-line-1', t.w.hub.open).onmessage = (event) => void active.push(event.data)
    openLine(join.line!, t.w.hub.open).postMessage(route(1, 'tab-b', 'route-line-1'))
    await flush()
    expect(t.router.route).toMatchObject({ epoch: 1, activeTabId: 'tab-b' })
    expect(active).toEqual([{ t: 'hello', token: 'token-1' }])
    await t.close()
  })
})

describe('Membership: what the coordinator says', () => {
  it("takes a route to another tab's worker: the router says hello on the route's line", async () => {
    const t = await joinedTab()
    const line = new MessageChannel()
    const hello = nextMessage(line.port2)
    t.port().answer(route(1, 'tab-b', line.port1))
    expect(t.router.route).toMatchObject({ epoch: 1, activeTabId: 'tab-b' })
    expect(await hello).toEqual({ t: 'hello', token: 'token-1' })
    expect(t.membership.storage.kind).toBe('opfs')
    expect(t.heard.fallbacks).toEqual([])
    line.port2.close()
    await t.close()
  })

  it('takes a route to its own worker over the Worker channel, as own line 1', async () => {
    const t = await joinedTab()
    const line = new MessageChannel()
    t.port().answer(route(2, 'tab-a', line.port1))
    expect(t.router.route).toMatchObject({ epoch: 2, activeTabId: 'tab-a' })
    expect(t.worker().posted.slice(-2)).toEqual([
      { t: 'own-line', v, token: 'token-2', serial: 1 },
      { t: 'hello', token: 'token-2' },
    ])
    line.port2.close()
    await t.close()
  })

  it('announces a fallback storage once, however many routes use it', async () => {
    const t = await joinedTab()
    const reason = 'OPFS sync access handles are not available'
    for (const epoch of [1, 2]) {
      const line = new MessageChannel()
      t.port().answer(route(epoch, 'tab-b', line.port1, { storage: 'idb', storageReason: reason }))
      line.port2.close()
    }
    expect(t.membership.storage.kind).toBe('idb')
    expect(t.heard.fallbacks).toEqual([{ what: 'storage', chosen: 'idb', reason, degraded: false }])
    await t.close()
  })

  it('keeps the roster it is sent, and tells who is here', async () => {
    const t = await joinedTab()
    t.port().answer({ t: 'roster', v, tabIds: ['tab-b', 'tab-a'], activeTabId: 'tab-b' })
    expect(t.membership.roster).toEqual(['tab-b', 'tab-a'])
    expect(Object.isFrozen(t.membership.roster)).toBe(true)
    t.port().answer({ t: 'roster', v, tabIds: ['tab-a'], activeTabId: undefined })
    expect(t.membership.roster).toEqual(['tab-a'])
    expect(t.heard.tabs).toEqual([
      { tabs: ['tab-b', 'tab-a'], activeTabId: 'tab-b' },
      { tabs: ['tab-a'], activeTabId: undefined },
    ])
    await t.close()
  })

  it("joins again when the coordinator's lifetime lock is granted to it (the coordinator died)", async () => {
    const t = await joinedTab()
    const first = t.port()
    const coordinatorDies = t.w.locks.hold('coordinator-life-1')
    t.port().answer({ t: 'welcome', v, lock: 'coordinator-life-1' })
    const line = new MessageChannel()
    t.port().answer(route(3, 'tab-a', line.port1))
    await flush()
    expect(t.w.workers).toHaveLength(1)
    coordinatorDies()
    await flush()
    // The same worker, with a fresh line to the restarted coordinator.
    expect(t.w.tabWorkers).toHaveLength(1)
    const [moved] = t.worker().sent('coordinator-port')
    expect(first.closed).toBe(true)
    expect(t.w.workers).toHaveLength(2)
    const again = t.port().posted as JoinMessage[]
    // A restarted coordinator continues the epochs, keeps this tab's place and finds the holder.
    expect(again).toMatchObject([
      { t: 'join', tabId: 'tab-a', secret: 'secret-a', tabLock, epoch: 3, holder: true, since: START },
    ])
    expect(again[0]!.serial).toBe(2)
    expect(await sameLine(moved!.port as LineRef, again[0]!.workerPort)).toBe(true)
    line.port2.close()
    await t.close()
  })

  it('replaces its worker when fenced, and gives the coordinator the new one (rejoin)', async () => {
    const t = await joinedTab()
    const fenced = t.worker()
    t.port().answer({ t: 'fence', v })
    expect(fenced.terminated).toBe(true)
    expect(t.w.tabWorkers).toHaveLength(2)
    const [init] = t.worker().sent('init')
    expect(init).toMatchObject({ tabId: 'tab-a' })
    const rejoin = t.port().posted.at(-1) as Posted
    expect(rejoin).toMatchObject({ t: 'rejoin', v, tabId: 'tab-a' })
    expect(await sameLine(init!.coordinatorPort as LineRef, rejoin.workerPort as LineRef)).toBe(true)
    expect(t.w.workers).toHaveLength(1)
    await t.close()
  })

  it('passes on the goodbye of another tab, heard on the join channel', async () => {
    const t = await joinedTab()
    t.say({ t: 'left', v, tabId: 'tab-b' })
    await flush()
    expect(t.heard.left).toEqual(['tab-b'])
    await t.close()
  })

  it('leaves, failing its statements with the reason, when the coordinator rejects it', async () => {
    const t = await joinedTab()
    t.port().answer({ t: 'rejected', v: v + 1, error: { name: 'ProtocolError', message: 'another release' } })
    expect(t.port().posted.at(-1)).toEqual({ t: 'leave', v, tabId: 'tab-a' })
    await expect(t.router.exec(t.router.leases.newLease(), 'select 1', [], 'read')).rejects.toThrow('another release')
    await t.close()
  })
})

describe('Membership: leaving', () => {
  it('on close: closes its worker, says leave, releases its lifetime lock and stops every timer', async () => {
    const t = await joinedTab()
    const port = t.port()
    const worker = t.worker()
    expect(t.w.clock.pending).toBeGreaterThan(0) // the bound on the SharedWorker's answer
    await t.close()
    expect(worker.sent('close')).toHaveLength(1)
    expect(worker.terminated).toBe(true)
    expect(port.posted.at(-1)).toEqual({ t: 'leave', v, tabId: 'tab-a' })
    expect(port.closed).toBe(true)
    expect(t.w.clock.pending).toBe(0)
    await flush()
    expect(await held(t.w, tabLock)).toBe(false)
    expect(t.joinChannel).toContainEqual({ t: 'left', v, tabId: 'tab-a' })
  })

  it("waits for a worker that does not answer its close only as long as the bound, on the env's clock", async () => {
    const t = await joinedTab()
    t.worker().answers = false
    let closed = false
    void t.close().then(() => (closed = true))
    t.w.clock.advance(2999)
    await flush()
    expect(closed).toBe(false)
    expect(await held(t.w, tabLock)).toBe(true)
    t.w.clock.advance(1)
    await flush()
    expect(closed).toBe(true)
    expect(await held(t.w, tabLock)).toBe(false)
    expect(t.w.clock.pending).toBe(0)
  })

  it('leaves, failing its statements, when its worker fails to load', async () => {
    const t = await joinedTab()
    t.worker().fail('could not load tab-worker.js')
    expect(t.worker().terminated).toBe(true)
    expect(t.membership.worker.gone).toBe(true)
    expect(t.port().posted.at(-1)).toEqual({ t: 'leave', v, tabId: 'tab-a' })
    const statement = t.router.exec(t.router.leases.newLease(), 'select 1', [], 'read')
    await expect(statement).rejects.toBeInstanceOf(StorageUnavailableError)
    await t.close()
  })
})
