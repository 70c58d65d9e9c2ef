import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { HEARTBEATS_PER_BOUND, RoleFreshness } from '../src/worker/role-freshness.js'

const BOUND = 600
const BEAT = BOUND / HEARTBEATS_PER_BOUND

function freshness() {
  const sent: number[] = []
  const lost = vi.fn()
  const role = new RoleFreshness({ hangTimeoutMs: BOUND, send: (seq) => sent.push(seq), onLost: lost })
  return { role, sent, lost }
}

describe('RoleFreshness', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is fresh for a share of the bound after it starts, and heartbeats at a sixth of it', () => {
    const { role, sent } = freshness()
    vi.advanceTimersByTime(1)
    expect(role.fresh).toBe(false)
    role.start()
    expect(role.fresh).toBe(true)
    vi.advanceTimersByTime(BEAT * 3)
    expect(sent).toEqual([1, 2, 3])
    // Unacknowledged, the role goes stale before the coordinator would call the worker hung.
    vi.advanceTimersByTime(BOUND - BEAT * 3)
    expect(role.fresh).toBe(false)
  })

  it('an acknowledgement keeps it fresh until a bound after that heartbeat was sent; an unknown one does nothing', () => {
    const { role, sent } = freshness()
    role.start()
    vi.advanceTimersByTime(BEAT * 3)
    role.acknowledge(sent.at(-1)!) // sent at 3 beats
    vi.advanceTimersByTime(BOUND * 0.6 - 1)
    expect(role.fresh).toBe(true)
    role.acknowledge(999)
    vi.advanceTimersByTime(2)
    expect(role.fresh).toBe(false)
  })

  it('renew: a stale worker asks once for many waiters, and serves again once heard', async () => {
    const { role, sent } = freshness()
    role.start()
    role.stop() // no timer beats: only renew() sends
    vi.advanceTimersByTime(BOUND)
    const first = role.renew()
    const second = role.renew()
    expect(sent).toEqual([1])
    role.acknowledge(1)
    await expect(first).resolves.toBe(true)
    await expect(second).resolves.toBe(true)
  })

  it('renew with no answer within the bound: the role is lost', async () => {
    const { role, lost } = freshness()
    role.start()
    vi.advanceTimersByTime(BOUND) // acknowledged never: stale
    void role.renew()
    expect(lost).not.toHaveBeenCalled()
    vi.advanceTimersByTime(BOUND)
    expect(lost).toHaveBeenCalledTimes(1)
  })

  it('silent for twice the bound, it gives the role up by itself; stop() answers waiters false', async () => {
    const { role, lost } = freshness()
    role.start()
    vi.advanceTimersByTime(BOUND * 2 + BEAT)
    expect(lost).toHaveBeenCalled()
    const waiting = role.renew()
    role.stop()
    await expect(waiting).resolves.toBe(false)
  })

  it('a running statement heartbeats at the usual pace, and its beats count as heard (silence is counted from its end)', () => {
    const { role, sent, lost } = freshness()
    role.start()
    // A statement blocks the event loop for over twice the bound: only its own beats go out, with
    // the times SQLite's progress handler reads.
    const t0 = performance.now()
    for (let t = 1; t <= 100; t++) role.beatWhileBusy(t0 + t * (BEAT / 4))
    expect(sent.length).toBe(25)
    // When it returns, the timer's beat finds no silence: acknowledgements could not be heard meanwhile.
    vi.advanceTimersByTime(BOUND * 2 + BEAT)
    expect(lost).not.toHaveBeenCalled()
  })
})
