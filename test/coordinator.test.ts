// The coordinator with fake browser APIs: a manual clock and timers, Web Locks kept in memory, tab
// lines that record what they are sent, and workers on real MessageChannels (Node has them).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Coordinator } from '../src/coordinator/coordinator.js'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { newTabIdentity } from '../src/protocol/tab-identity.js'
import type { Line } from '../src/protocol/line.js'
import { fakeCoordinatorEnv } from './support/fake-channels.js'

interface FakeTab {
  tabId: string
  line: Line & { got: Array<{ t: string; [k: string]: unknown }> }
  /** What the coordinator sent this tab's worker. */
  toWorker: Array<{ t: string; epoch?: number; steal?: boolean }>
  close(): void
}

const open: Array<() => void> = []
afterEach(() => {
  for (const close of open.splice(0)) close()
})

function harness(options: { takenOver?: boolean } = {}) {
  const { clock, locks, env } = fakeCoordinatorEnv()
  const coordinator = new Coordinator('db:coordinator:1', 'db:role', env, options.takenOver)

  /** A tab joins; its worker answers `activate` at once when `answers`, else never. */
  async function join(
    options: {
      since?: number
      hangTimeoutMs?: number
      answers?: boolean
      secret?: string
      tabId?: string
      epoch?: number
      holder?: boolean
    } = {},
  ) {
    const identity = await newTabIdentity()
    const tabId = options.tabId ?? identity.tabId
    const hangTimeoutMs = options.hangTimeoutMs ?? 4000
    const got: FakeTab['line']['got'] = []
    const line = { got, postMessage: (m: unknown) => void got.push(m as never), onmessage: null, start() {}, close() {} }
    const worker = new MessageChannel()
    const toWorker: FakeTab['toWorker'] = []
    worker.port1.onmessage = (event) => {
      toWorker.push(event.data)
      if (options.answers !== false && event.data.t === 'activate') {
        worker.port1.postMessage({
          t: 'activated',
          v: PROTOCOL_VERSION,
          epoch: event.data.epoch,
          hangTimeoutMs,
          storage: 'opfs-sahpool',
        })
      }
    }
    const tabLock = `db:tab:${tabId}`
    const release = locks.hold(tabLock)
    const close = () => {
      worker.port1.close()
      release()
    }
    open.push(close)
    coordinator.receive(line, {
      t: 'join',
      v: PROTOCOL_VERSION,
      tabId,
      secret: options.secret ?? identity.secret,
      tabLock,
      workerPort: worker.port2,
      epoch: options.epoch ?? 0,
      holder: options.holder ?? false,
      since: options.since,
      hangTimeoutMs,
      visible: true,
    })
    const tab: FakeTab = { tabId, line, toWorker, close }
    return tab
  }

  const activates = (tab: FakeTab) => tab.toWorker.filter((m) => m.t === 'activate').length
  const routedTo = (tab: FakeTab) => [...tab.line.got].reverse().find((m) => m.t === 'route')?.activeTabId
  const leave = (tab: FakeTab) => coordinator.receive(tab.line, { t: 'leave', v: PROTOCOL_VERSION, tabId: tab.tabId })
  /** Moves the clock by `ms` in steps of 50, letting promises (lock queries) settle between. */
  const step = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      clock.advance(50)
      await new Promise((r) => setTimeout(r, 2))
    }
  }
  return { clock, locks, coordinator, join, activates, routedTo, leave, step }
}

describe('coordinator', () => {
  it("refuses a join with a tab's id but not its secret, though it never saw that tab (a restart)", async () => {
    const h = harness()
    const victim = await newTabIdentity()
    const thief = await h.join({ tabId: victim.tabId, secret: 'guessed' })
    await vi.waitFor(() => expect(thief.line.got.map((m) => m.t)).toEqual(['rejected']))
    expect(thief.line.got[0]!.error).toMatchObject({ name: 'ProtocolError' })
    const real = await h.join({ tabId: victim.tabId, secret: victim.secret })
    await vi.waitFor(() => expect(h.routedTo(real)).toBe(victim.tabId))
  })

  it("handles what a tab sends after its join in order, though the join's check takes a while", async () => {
    const h = harness()
    const a = await h.join()
    await vi.waitFor(() => expect(h.routedTo(a)).toBe(a.tabId))
    const b = await h.join()
    h.leave(b) // sent right behind the join, before its check is done
    await vi.waitFor(() => expect(a.line.got.filter((m) => m.t === 'roster').length).toBeGreaterThanOrEqual(3))
    const rosters = a.line.got.filter((m) => m.t === 'roster').map((m) => m.tabIds)
    expect(rosters.at(-2)).toEqual([a.tabId, b.tabId])
    expect(rosters.at(-1)).toEqual([a.tabId])
  })

  it('gives an elected member that never answers up after 60 s, not the 23 days it claims, and tries it once', async () => {
    const h = harness()
    const a = await h.join({ hangTimeoutMs: 1500 })
    await vi.waitFor(() => expect(h.routedTo(a)).toBe(a.tabId))
    const fakes = [await h.join({ since: 0, hangTimeoutMs: 2_000_000_000, answers: false })]
    fakes.push(await h.join({ since: 0, hangTimeoutMs: 2_000_000_000, answers: false }))
    const b = await h.join({ hangTimeoutMs: 1500 })
    const c = await h.join({ hangTimeoutMs: 1500 })
    await vi.waitFor(() => expect(h.routedTo(c)).toBe(a.tabId))

    h.leave(a)
    await vi.waitFor(() => expect(fakes.map(h.activates)).toEqual([1, 0])) // the oldest claim goes first
    h.clock.advance(59_000)
    await new Promise((r) => setTimeout(r, 20))
    expect(fakes.map(h.activates)).toEqual([1, 0])
    h.clock.advance(7_000) // checked every tenth of the bound
    await vi.waitFor(() => expect(fakes.map(h.activates)).toEqual([1, 1]))
    h.clock.advance(66_000)
    await vi.waitFor(() => expect(h.routedTo(c)).toBe(b.tabId))

    h.leave(b) // the fakes are still members, but are not tried again while a real tab is there
    await vi.waitFor(() => expect(h.routedTo(c)).toBe(c.tabId))
    expect(fakes.map(h.activates)).toEqual([1, 1])
  })

  it('bounds an election by 60 s of silence on a coordinator no worker served yet, whatever the member claims', async () => {
    const h = harness()
    const fake = await h.join({ since: 0, hangTimeoutMs: 2_000_000_000, answers: false })
    await vi.waitFor(() => expect(h.activates(fake)).toBe(1))
    const a = await h.join({ hangTimeoutMs: 60_000 })
    h.clock.advance(59_000)
    await new Promise((r) => setTimeout(r, 20))
    expect(h.activates(a)).toBe(0)
    h.clock.advance(7_000) // checked every tenth of the bound
    await vi.waitFor(() => expect(h.routedTo(a)).toBe(a.tabId))
  })

  describe('restarted, with the role lock still held by a tab that has not rejoined', () => {
    // As when it took over from a coordinator whose tab is frozen, and was the active tab too.
    it('waits one hang bound for the holder, then elects a tab that steals the role lock', async () => {
      const h = harness()
      h.locks.hold('db:role')
      const a = await h.join({ epoch: 7, hangTimeoutMs: 1500 })
      await vi.waitFor(() => expect(a.line.got.map((m) => m.t)).toContain('welcome'))
      await h.step(1400)
      expect(h.activates(a)).toBe(0)
      await h.step(200)
      await vi.waitFor(() => expect(a.toWorker.find((m) => m.t === 'activate')).toMatchObject({ steal: true }))
      expect(a.toWorker.find((m) => m.t === 'activate')!.epoch).toBeGreaterThan(7)
    })

    it('elects without a steal when the holder let the lock go', async () => {
      const h = harness()
      const release = h.locks.hold('db:role')
      const a = await h.join({ epoch: 7, hangTimeoutMs: 1500 })
      await vi.waitFor(() => expect(a.line.got.map((m) => m.t)).toContain('welcome'))
      await h.step(200)
      release()
      await h.step(1400)
      await vi.waitFor(() => expect(a.toWorker.find((m) => m.t === 'activate')).toMatchObject({ steal: false }))
    })
  })

  describe('taken over from a coordinator that fell silent (its tab frozen)', () => {
    // The frozen tab's page may still take the new coordinator's `ready` and rejoin, saying its
    // worker holds the files; that worker, frozen, never answers.
    for (const takenOver of [true, false]) {
      it(`gives a holder that does not answer ${takenOver ? 'a quarter of' : 'all of'} its hang bound, then the next tab steals`, async () => {
        const h = harness({ takenOver })
        h.locks.hold('db:role')
        const frozen = await h.join({ epoch: 7, holder: true, answers: false })
        await vi.waitFor(() => expect(h.activates(frozen)).toBe(1))
        const b = await h.join({ epoch: 7 })
        await h.step(900)
        expect(h.activates(b)).toBe(0)
        await h.step(800)
        if (!takenOver) {
          expect(h.activates(b)).toBe(0)
          await h.step(2900)
        }
        await vi.waitFor(() => expect(b.toWorker.find((m) => m.t === 'activate')).toMatchObject({ steal: true }))
      })
    }
  })
})
