// The join channel on fake BroadcastChannels and a manual clock: which joins open a line and reach
// the coordinator, how a join of another release is answered, and what the coordinator says unasked.
import { describe, expect, it, vi } from 'vitest'
import { Coordinator } from '../src/coordinator/coordinator.js'
import { REJECTED_LINE_MS, serveJoinChannel, type JoinTaker } from '../src/coordinator/join-channel.js'
import { COORDINATOR_ALIVE_MS, type JoinMessage } from '../src/protocol/coordinator-messages.js'
import { openLine, type ChannelEnd, type Line } from '../src/protocol/line.js'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { newTabIdentity } from '../src/protocol/tab-identity.js'
import { fakeCoordinatorEnv } from './support/fake-channels.js'

const JOIN_CHANNEL = 'db:join'
const LOCK = 'db:coordinator:1'
const v = PROTOCOL_VERSION

/** Lets the hub deliver (each hop is a later task). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

function joinMessage(extra: Partial<JoinMessage> = {}): JoinMessage {
  return {
    t: 'join',
    v,
    tabId: 'tab-a',
    secret: 'secret-a',
    tabLock: 'db:tab:a',
    workerPort: 'worker-line-a',
    line: 'tab-line-a',
    epoch: 0,
    holder: false,
    hangTimeoutMs: 4000,
    visible: true,
    ...extra,
  }
}

/** A coordinator that records what the join channel hands it. */
function recorder() {
  const connected: Line[] = []
  const received: Array<{ line: Line; data: unknown }> = []
  const taker: JoinTaker = {
    connect: (line) => void connected.push(line),
    receive: (line, data) => void received.push({ line, data }),
  }
  return { taker, connected, received }
}

/**
 * The join channel served for `taker`, with a tab already listening on it; `opened` holds every
 * channel the coordinator's side opened (the join channel first).
 */
function world(taker: JoinTaker = recorder().taker) {
  const fakes = fakeCoordinatorEnv()
  const opened: Array<{ name: string; end: ChannelEnd & { closed: boolean } }> = []
  const env = {
    ...fakes.env,
    openChannel: (name: string) => {
      const end = fakes.hub.open(name) as ChannelEnd & { closed: boolean }
      opened.push({ name, end })
      return end
    },
  }
  const tab = fakes.hub.open(JOIN_CHANNEL)
  const heard: Array<{ t: string; v: number; lock?: string }> = []
  tab.onmessage = (event) => void heard.push(event.data)
  serveJoinChannel(taker, JOIN_CHANNEL, LOCK, env)
  /** The coordinator's ends of lines (every channel it opened but the join channel). */
  const lines = () => opened.filter((o) => o.name !== JOIN_CHANNEL)
  return { ...fakes, env, tab, heard, opened, lines }
}

describe('the join channel', () => {
  it('opens the line a join names, and hands the coordinator that line and the join', async () => {
    const { taker, connected, received } = recorder()
    const w = world(taker)
    const tabLine = openLine('tab-line-a', w.hub.open)
    const got: unknown[] = []
    tabLine.onmessage = (event) => void got.push(event.data)
    w.tab.postMessage(joinMessage())
    await settle()
    expect(connected).toHaveLength(1)
    expect(received).toEqual([{ line: connected[0], data: joinMessage() }])
    connected[0]!.postMessage({ t: 'hello' })
    await settle()
    expect(got).toEqual([{ t: 'hello' }])
  })

  it('brings a tab joining on it to the coordinator, which welcomes it and reaches its worker on the lines it named', async () => {
    const fakes = fakeCoordinatorEnv()
    const coordinator = new Coordinator(LOCK, 'db:role', fakes.env)
    serveJoinChannel(coordinator, JOIN_CHANNEL, LOCK, fakes.env)
    const identity = await newTabIdentity()
    fakes.locks.hold('db:tab:a')
    const tabLine = openLine('tab-line-a', fakes.hub.open)
    const got: Array<{ t: string; lock?: string }> = []
    tabLine.onmessage = (event) => void got.push(event.data)
    const workerLine = openLine('worker-line-a', fakes.hub.open)
    const toWorker: Array<{ t: string }> = []
    workerLine.onmessage = (event) => void toWorker.push(event.data)
    fakes.hub.open(JOIN_CHANNEL).postMessage(joinMessage({ tabId: identity.tabId, secret: identity.secret }))
    await vi.waitFor(() => expect(got[0]).toMatchObject({ t: 'welcome', lock: LOCK }))
    await vi.waitFor(() => expect(toWorker.map((m) => m.t)).toContain('activate'))
  })

  it('takes a join sent again once', async () => {
    const { taker, connected, received } = recorder()
    const w = world(taker)
    w.tab.postMessage(joinMessage())
    w.tab.postMessage(joinMessage())
    await settle()
    w.tab.postMessage(joinMessage())
    await settle()
    expect(connected).toHaveLength(1)
    expect(received).toHaveLength(1)
    expect(w.lines()).toHaveLength(1)
  })

  it('ignores a join addressed to another instance, and takes one addressed to this one', async () => {
    const { taker, connected } = recorder()
    const w = world(taker)
    w.tab.postMessage(joinMessage({ to: 'db:coordinator:other' }))
    await settle()
    expect(connected).toHaveLength(0)
    expect(w.lines()).toHaveLength(0)
    w.tab.postMessage(joinMessage({ to: LOCK }))
    await settle()
    expect(connected).toHaveLength(1)
  })

  it('opens no line for a malformed join, nor for one without a version or a line name', async () => {
    const { taker, received } = recorder()
    const w = world(taker)
    w.tab.postMessage({ ...joinMessage(), tabLock: 7 })
    w.tab.postMessage({ ...joinMessage({ line: 'tab-line-b' }), epoch: 'one' })
    w.tab.postMessage({ ...joinMessage({ line: 'tab-line-c' }), v: undefined })
    w.tab.postMessage(joinMessage({ line: 'no' }))
    w.tab.postMessage('join')
    await settle()
    expect(w.lines()).toHaveLength(0)
    expect(received).toHaveLength(0)
  })

  it("answers a join of another release on its line, which it lets go after the bound, and doesn't connect it", async () => {
    const { taker, connected, received } = recorder()
    const w = world(taker)
    const old = { ...joinMessage(), v: PROTOCOL_VERSION - 1 }
    w.tab.postMessage(old)
    await settle()
    expect(connected).toHaveLength(0)
    expect(received.map((r) => r.data)).toEqual([old])
    const [line] = w.lines()
    expect(line!.name).toMatch(/tab-line-a$/)
    w.clock.advance(REJECTED_LINE_MS - 1)
    expect(line!.end.closed).toBe(false)
    w.clock.advance(1)
    expect(line!.end.closed).toBe(true)
  })

  it("delivers the coordinator's `rejected` to a tab of another release", async () => {
    const fakes = fakeCoordinatorEnv()
    serveJoinChannel(new Coordinator(LOCK, 'db:role', fakes.env), JOIN_CHANNEL, LOCK, fakes.env)
    const tabLine = openLine('tab-line-a', fakes.hub.open)
    const got: Array<{ t: string; error?: { name?: string } }> = []
    tabLine.onmessage = (event) => void got.push(event.data)
    fakes.hub.open(JOIN_CHANNEL).postMessage({ ...joinMessage(), v: PROTOCOL_VERSION + 1 })
    await settle()
    expect(got).toMatchObject([{ t: 'rejected', error: { name: 'ProtocolError' } }])
  })

  it('says `ready` as it starts', async () => {
    const w = world()
    await settle()
    expect(w.heard).toEqual([{ t: 'ready', v, lock: LOCK }])
  })

  it('answers a ping with `alive` at once, but not a ping of another release', async () => {
    const w = world()
    await settle()
    w.tab.postMessage({ t: 'ping', v: PROTOCOL_VERSION + 1 })
    await settle()
    expect(w.heard.map((m) => m.t)).toEqual(['ready'])
    w.tab.postMessage({ t: 'ping', v })
    await settle()
    expect(w.heard).toEqual([
      { t: 'ready', v, lock: LOCK },
      { t: 'alive', v, lock: LOCK },
    ])
  })

  it('says `alive` every COORDINATOR_ALIVE_MS unasked', async () => {
    const w = world()
    w.clock.advance(COORDINATOR_ALIVE_MS - 1)
    await settle()
    expect(w.heard.map((m) => m.t)).toEqual(['ready'])
    w.clock.advance(1)
    await settle()
    expect(w.heard.map((m) => m.t)).toEqual(['ready', 'alive'])
    w.clock.advance(2 * COORDINATOR_ALIVE_MS)
    await settle()
    expect(w.heard).toEqual([{ t: 'ready', v, lock: LOCK }, ...Array(3).fill({ t: 'alive', v, lock: LOCK })])
  })
})
