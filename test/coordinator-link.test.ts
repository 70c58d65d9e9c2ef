// A tab's link to its coordinator, on fake channels, a fake SharedWorker, a manual clock and
// in-memory Web Locks: which coordinator it uses, when it joins (again), and whom it moves to.
import { describe, expect, it } from 'vitest'
import {
  CoordinatorLink,
  SHARED_WORKER_START_MS,
  SHARED_WORKER_TRIES,
  type CoordinatorMode,
} from '../src/client/coordinator-link.js'
import { pingAfterMs, pingAnswerMs, silenceCheckMs } from '../src/client/coordinator-silence.js'
import type { JoinMessage } from '../src/protocol/coordinator-messages.js'
import { StorageUnavailableError } from '../src/protocol/errors.js'
import { openLine } from '../src/protocol/line.js'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { databaseNames } from '../src/protocol/names.js'
import { fakeLinkEnv } from './support/fake-channels.js'

const HANG = 4000
const names = databaseNames('app.db')
const v = PROTOCOL_VERSION

type World = ReturnType<typeof fakeLinkEnv>
type Said = { t?: string; line?: string; to?: string; serial?: number; tabId?: string }

/** Fakes in which another tab hosts the Web Locks coordinator (this one only queues to). */
function world(options: { sharedWorker?: boolean } = {}): World {
  const w = fakeLinkEnv(options)
  w.locks.hold(names.hostLock)
  return w
}

function joinMessage(extra: Partial<JoinMessage> = {}): JoinMessage {
  return {
    t: 'join',
    v,
    tabId: 'tab-a',
    secret: 'secret-a',
    tabLock: 'tab-lock-a',
    workerPort: 'worker-line-a',
    epoch: 0,
    holder: false,
    hangTimeoutMs: HANG,
    visible: true,
    ...extra,
  }
}

/** A tab's link that joins again as Membership does, on `switched`, `unanswered` and `moved`. */
function tab(w: World, mode: CoordinatorMode) {
  const did = {
    messages: [] as unknown[],
    switched: [] as string[],
    failed: [] as Error[],
    left: [] as string[],
    unanswered: 0,
    moved: [] as string[],
  }
  const link: CoordinatorLink = new CoordinatorLink(
    mode,
    names,
    undefined,
    HANG,
    () => {},
    {
      message: (data) => void did.messages.push(data),
      switched: (reason) => {
        did.switched.push(reason)
        link.join(joinMessage())
      },
      failed: (error) => void did.failed.push(error),
      left: (tabId) => void did.left.push(tabId),
      unanswered: () => {
        did.unanswered++
        link.join(joinMessage())
      },
      moved: (to) => {
        did.moved.push(to)
        link.join(joinMessage({ to }))
      },
    },
    w.env,
  )
  return { link, did }
}

/** Another party on the join channel (a coordinator, say): what it heard, and what it says. */
function joinChannel(w: World) {
  const heard: Said[] = []
  const channel = w.hub.open(names.joinChannel)
  channel.onmessage = (event) => void heard.push(event.data as Said)
  return {
    heard,
    joins: () => heard.filter((m) => m.t === 'join'),
    say: (message: unknown) => channel.postMessage(message),
  }
}

/** The coordinator `lock` answers a join on its line with a welcome. */
function welcome(w: World, join: Said, lock: string): void {
  openLine(join.line!, w.hub.open).postMessage({ t: 'welcome', v, lock })
}

/** A tab that joined on the join channel, and was welcomed by `lock` if given. */
async function channelTab(w: World, lock?: string) {
  const channel = joinChannel(w)
  const a = tab(w, 'web-locks')
  a.link.join(joinMessage())
  await flush()
  if (lock !== undefined) {
    welcome(w, channel.joins()[0]!, lock)
    await flush()
  }
  return { channel, a }
}

/** Lets channel deliveries, lock callbacks and the promises after them run, a few hops deep. */
async function flush(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise<void>((r) => setImmediate(r))
}

/** Moves the clock to `at`, by steps of 10 ms, letting deliveries happen after each. */
async function runTo(w: World, at: number): Promise<void> {
  while (w.clock.now < at) {
    w.clock.advance(Math.min(10, at - w.clock.now))
    await flush()
  }
}

async function held(w: World, lock: string): Promise<boolean> {
  const { held } = await w.locks.query()
  return held!.some((l) => l.name === lock)
}

describe('CoordinatorLink: SharedWorker or Web Locks', () => {
  it('uses Web Locks where there is no SharedWorker, and refuses to start in shared-worker mode', () => {
    const w = world({ sharedWorker: false })
    expect(tab(w, 'auto').link.kind).toBe('web-locks')
    expect(() => tab(w, 'shared-worker')).toThrow(StorageUnavailableError)
  })

  it('under auto, gives way to Web Locks when the SharedWorker does not answer within its bound', async () => {
    const w = world()
    const channel = joinChannel(w)
    const a = tab(w, 'auto')
    expect(a.link.kind).toBe('shared-worker')
    a.link.join(joinMessage())
    expect(w.workers[0]!.port.posted).toMatchObject([{ t: 'join', serial: 1 }])
    await runTo(w, SHARED_WORKER_START_MS - 1)
    expect(a.did.switched).toEqual([])
    expect(channel.joins()).toEqual([])
    await runTo(w, SHARED_WORKER_START_MS)
    expect(a.did.switched).toHaveLength(1)
    expect(a.link.kind).toBe('web-locks')
    expect(a.link.ports).toBe(false)
    expect(w.workers[0]!.port.closed).toBe(true)
    expect(channel.joins()).toMatchObject([{ tabId: 'tab-a', line: 'line-0001', serial: 2 }])
    expect(a.did.failed).toEqual([])
  })

  it('keeps the SharedWorker that answers within its bound, a `rejected` as much as a welcome', async () => {
    const w = world()
    const a = tab(w, 'auto')
    a.link.join(joinMessage())
    await runTo(w, SHARED_WORKER_START_MS - 1)
    const rejected = { t: 'rejected', v: v + 1, error: { name: 'ProtocolError', message: 'another release' } }
    w.workers[0]!.port.answer(rejected)
    await runTo(w, 3 * SHARED_WORKER_START_MS)
    expect(a.did.messages).toEqual([rejected])
    expect(a.did.switched).toEqual([])
    expect(a.link.kind).toBe('shared-worker')
  })

  it('under auto, gives way to Web Locks when the SharedWorker script fails to load', async () => {
    const w = world()
    const channel = joinChannel(w)
    const a = tab(w, 'auto')
    a.link.join(joinMessage())
    w.workers[0]!.fail()
    await flush()
    expect(a.did.switched).toHaveLength(1)
    expect(channel.joins()).toHaveLength(1)
  })

  it('goes to the join channel when the SharedWorker says use-channel, in shared-worker mode too', async () => {
    const w = world()
    const channel = joinChannel(w)
    const a = tab(w, 'shared-worker')
    a.link.join(joinMessage())
    w.workers[0]!.port.answer({ t: 'use-channel', v })
    await flush()
    expect(a.did.switched).toHaveLength(1)
    expect(a.did.messages).toEqual([])
    expect(a.link.kind).toBe('web-locks')
    expect(channel.joins()).toMatchObject([{ line: 'line-0001' }])
  })

  it('in shared-worker mode, asks a fresh SharedWorker when one does not answer, and fails after the last try', async () => {
    const w = world()
    const a = tab(w, 'shared-worker')
    a.link.join(joinMessage())
    await runTo(w, (SHARED_WORKER_TRIES - 1) * SHARED_WORKER_START_MS)
    expect(a.did.unanswered).toBe(SHARED_WORKER_TRIES - 1)
    expect(w.workers).toHaveLength(SHARED_WORKER_TRIES)
    expect(a.did.failed).toEqual([])
    await runTo(w, SHARED_WORKER_TRIES * SHARED_WORKER_START_MS)
    expect(a.did.failed).toHaveLength(1)
    expect(a.did.failed[0]).toBeInstanceOf(StorageUnavailableError)
    expect(a.did.switched).toEqual([])
  })

  it('stops its timers when it closes, and says goodbye on the join channel', async () => {
    const w = world()
    const channel = joinChannel(w)
    const a = tab(w, 'auto')
    a.link.join(joinMessage())
    a.link.close({ t: 'leave', v, tabId: 'tab-a' })
    expect(w.clock.pending).toBe(0)
    expect(w.workers[0]!.port.posted).toMatchObject([{ t: 'join' }, { t: 'leave', tabId: 'tab-a' }])
    await flush()
    expect(channel.heard).toMatchObject([{ t: 'left', tabId: 'tab-a' }])
  })
})

describe('CoordinatorLink on the join channel', () => {
  it('sends its join again on `ready` while not welcomed, and not once welcomed', async () => {
    const w = world()
    const { channel, a } = await channelTab(w)
    expect(channel.joins()).toHaveLength(1)
    channel.say({ t: 'ready', v, lock: 'c1' })
    await flush()
    expect(channel.joins()).toHaveLength(2)
    const [first, again] = channel.joins()
    expect(again).toEqual(first)
    expect(again!.to).toBeUndefined()
    welcome(w, again!, 'c1')
    await flush()
    expect(a.did.messages).toMatchObject([{ t: 'welcome', lock: 'c1' }])
    channel.say({ t: 'ready', v, lock: 'c1' })
    await flush()
    expect(channel.joins()).toHaveLength(2)
    expect(a.did.moved).toEqual([])
  })

  it('joins a coordinator that says `ready` after another welcomed the tab, addressed to its lock', async () => {
    const w = world()
    const { channel, a } = await channelTab(w, 'c1')
    channel.say({ t: 'ready', v, lock: 'c2' })
    await flush()
    expect(a.did.moved).toEqual(['c2'])
    expect(channel.joins()).toMatchObject([{ line: 'line-0001' }, { line: 'line-0002', to: 'c2' }])
  })

  it('addresses a pending join to a coordinator other than its own that says `ready`', async () => {
    const w = world()
    const channel = joinChannel(w)
    const a = tab(w, 'web-locks')
    a.link.join(joinMessage({ to: 'c2' }))
    await flush()
    channel.say({ t: 'ready', v, lock: 'c3' })
    await flush()
    expect(channel.joins()).toMatchObject([
      { line: 'line-0001', to: 'c2' },
      { line: 'line-0001', to: 'c3' },
    ])
    expect(a.did.moved).toEqual([])
  })

  it('counts `alive` from another coordinator, while its join is pending, as hearing another: moves to it', async () => {
    const w = world()
    const { channel, a } = await channelTab(w, 'c1')
    // Joins again (its worker was replaced, say), and c1 stays silent.
    const since = w.clock.now
    a.link.join(joinMessage())
    await runTo(w, since + pingAfterMs(HANG) + silenceCheckMs(HANG))
    expect(channel.heard.filter((m) => m.t === 'ping')).toHaveLength(1)
    channel.say({ t: 'alive', v, lock: 'c2' })
    await runTo(w, since + pingAfterMs(HANG) + silenceCheckMs(HANG) + pingAnswerMs() + HANG / 4)
    expect(a.did.moved).toEqual(['c2'])
    expect(channel.joins().at(-1)).toMatchObject({ to: 'c2' })
    expect(await held(w, names.takeOverLock)).toBe(false)
    expect(a.did.failed).toEqual([])
  })

  it('tells of another tab that said goodbye', async () => {
    const w = world()
    const { channel, a } = await channelTab(w)
    channel.say({ t: 'left', v, tabId: 'tab-b' })
    await flush()
    expect(a.did.left).toEqual(['tab-b'])
  })

  it('ignores malformed messages on the join channel, and throws none', async () => {
    const w = world()
    const { channel, a } = await channelTab(w)
    for (const junk of [
      null,
      undefined,
      42,
      'ready',
      [],
      {},
      { t: 'ready', v },
      { t: 'ready', v, lock: 7 },
      { t: 'ready', v: v + 1, lock: 'c1' },
      { t: 'ready', lock: 'c1' },
      { t: 'alive', v, lock: null },
      { t: 'left', v, tabId: 7 },
      { t: 'left', v: v + 1, tabId: 'tab-b' },
      { t: 'welcome', v, lock: 'c1' },
    ]) {
      channel.say(junk)
    }
    await flush()
    expect(w.hub.errors).toEqual([])
    expect(channel.joins()).toHaveLength(1)
    expect(a.did).toMatchObject({ messages: [], left: [], moved: [], switched: [], failed: [] })
    // Still listening.
    channel.say({ t: 'ready', v, lock: 'c1' })
    await flush()
    expect(channel.joins()).toHaveLength(2)
  })
})
