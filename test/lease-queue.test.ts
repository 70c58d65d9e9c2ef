import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { LeaseKey } from '../src/worker/lease-queue.js'
import { ClosureQueue } from './support/closure-queue.js'

class TimeoutError extends Error {}

function setup(idleTimeoutMs = 1000, mayYield?: () => boolean) {
  const log: string[] = []
  const revoked: LeaseKey[] = []
  const queue = new ClosureQueue({
    idleTimeoutMs,
    ...(mayYield ? { mayYield } : {}),
    timeoutError: (lease) => new TimeoutError(`timeout ${lease.tabId}#${lease.lease}`),
    onRevoke: (lease) => {
      revoked.push(lease)
      log.push(`rollback ${lease.tabId}#${lease.lease}`)
    },
  })
  const run = (tabId: string, lease: number, label: string) =>
    queue.submit({ tabId, lease }, () => {
      log.push(label)
    })
  return { queue, log, revoked, run }
}

const noop = () => {}
const flush = () => new Promise((resolve) => setImmediate(resolve))

describe('LeaseQueue', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }))
  afterEach(() => vi.useRealTimers())

  it('runs statements of the holder and makes other leases wait until it is released', async () => {
    const { queue, log, run } = setup()
    await run('A', 1, 'A1 begin')
    const b = run('B', 1, 'B1 insert')
    await run('A', 1, 'A1 insert')
    await flush()
    expect(log).toEqual(['A1 begin', 'A1 insert'])
    expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
    queue.release({ tabId: 'A', lease: 1 })
    await b
    expect(log).toEqual(['A1 begin', 'A1 insert', 'B1 insert'])
    expect(queue.holder).toEqual({ tabId: 'B', lease: 1 })
  })

  it("a withdrawn lease's queued statements never run, and never take the connection after its release", async () => {
    const { queue, log, run } = setup()
    await run('A', 1, 'A1 begin')
    void run('B', 1, 'B1 read').catch(() => {})
    const c = run('C', 1, 'C1 read')
    // B's tab gave up waiting (no answer in time) and released the lease.
    queue.withdraw({ tabId: 'B', lease: 1 })
    queue.release({ tabId: 'B', lease: 1 })
    queue.release({ tabId: 'A', lease: 1 })
    await c
    expect(log).toEqual(['A1 begin', 'C1 read'])
    expect(queue.holder).toEqual({ tabId: 'C', lease: 1 })
  })

  it('hands the lease to waiters in arrival order, each running all its queued statements', async () => {
    const { queue, log, run } = setup()
    await run('A', 1, 'a')
    const waiting = [run('B', 1, 'b1'), run('C', 1, 'c1'), run('B', 1, 'b2')]
    queue.release({ tabId: 'A', lease: 1 })
    await flush()
    expect(log).toEqual(['a', 'b1', 'b2'])
    queue.release({ tabId: 'B', lease: 1 })
    await Promise.all(waiting)
    expect(log).toEqual(['a', 'b1', 'b2', 'c1'])
  })

  it('revokes a holder idle past the timeout only when someone waits, rolling back first', async () => {
    const { queue, log, run, revoked } = setup(1000)
    await run('A', 1, 'A begin')
    await flush()
    vi.advanceTimersByTime(5000)
    expect(revoked).toEqual([]) // nobody waited: no harm in holding
    const b = run('B', 1, 'B insert')
    await b
    expect(revoked).toEqual([{ tabId: 'A', lease: 1 }])
    expect(log).toEqual(['A begin', 'rollback A#1', 'B insert'])
    await expect(run('A', 1, 'A late')).rejects.toBeInstanceOf(TimeoutError)
    // After the app releases the revoked lease, its number is forgotten.
    queue.release({ tabId: 'A', lease: 1 })
  })

  it('revokes after the timeout when a waiter arrived first', async () => {
    const { log, run, revoked } = setup(1000)
    await run('A', 1, 'A begin')
    const b = run('B', 1, 'B insert')
    await flush()
    expect(log).toEqual(['A begin'])
    vi.advanceTimersByTime(999)
    expect(revoked).toEqual([])
    vi.advanceTimersByTime(1)
    await b
    expect(log).toEqual(['A begin', 'rollback A#1', 'B insert'])
  })

  it('keeps no timer for an idle holder nobody waits for (one per statement would cost the hot path)', async () => {
    const { queue, run } = setup(1000)
    for (let i = 0; i < 5; i++) await run('A', 1, `A ${i}`)
    expect(vi.getTimerCount()).toBe(0)
    const b = run('B', 1, 'B')
    await flush()
    expect(vi.getTimerCount()).toBe(1)
    queue.release({ tabId: 'A', lease: 1 })
    await b
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a dead tab: its queued statements fail, its held lease rolls back, others proceed', async () => {
    const { queue, log, run } = setup()
    await run('A', 1, 'A begin')
    const aMore = run('A', 2, 'A other lease')
    const b = run('B', 1, 'B insert')
    queue.revokeTab('A', new Error('tab A gone'))
    await expect(aMore).rejects.toThrow('tab A gone')
    await b
    expect(log).toEqual(['A begin', 'rollback A#1', 'B insert'])
  })

  it('runs one statement at a time even within one lease', async () => {
    const { queue } = setup()
    let running = 0
    let maxRunning = 0
    const task = async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await new Promise((r) => setImmediate(r))
      running--
    }
    await Promise.all([1, 2, 3].map(() => queue.submit({ tabId: 'A', lease: 1 }, task)))
    expect(maxRunning).toBe(1)
  })

  it('reports a failing statement to its caller and moves on', async () => {
    const { queue, run, log } = setup()
    await expect(queue.submit({ tabId: 'A', lease: 1 }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await run('A', 1, 'after')
    expect(log).toEqual(['after'])
  })

  it('revokeAll fails everything queued', async () => {
    const { queue, run } = setup()
    await run('A', 1, 'a')
    const b = run('B', 1, 'b')
    queue.revokeAll(new Error('giving up'))
    await expect(b).rejects.toThrow('giving up')
    expect(queue.holder).toBeUndefined()
  })

  it('enqueue: a synchronous statement runs at once, a throwing one is reported, and the queue moves on', () => {
    const { queue } = setup()
    const log: string[] = []
    const failed: string[] = []
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => void log.push('a1'),
      (e) => failed.push(e.message),
    )
    // No await in between: nothing async was in the way.
    expect(log).toEqual(['a1'])
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => {
        throw new Error('boom')
      },
      (e) => failed.push(e.message),
    )
    queue.enqueueRun(
      { tabId: 'B', lease: 1 },
      () => void log.push('b1'),
      (e) => failed.push(e.message),
    )
    expect(failed).toEqual(['boom'])
    expect(log).toEqual(['a1']) // B waits for A's lease
    queue.release({ tabId: 'A', lease: 1 })
    expect(log).toEqual(['a1', 'b1'])
  })

  it('enqueue: a statement that returns a promise holds the queue until it settles', async () => {
    const { queue } = setup()
    const log: string[] = []
    let finish!: () => void
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => new Promise<void>((r) => (finish = r)).then(() => void log.push('a1')),
      () => {},
    )
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => void log.push('a2'),
      () => {},
    )
    await flush()
    expect(log).toEqual([])
    finish()
    await flush()
    expect(log).toEqual(['a1', 'a2'])
  })

  it("enqueue: a caller's reject that throws does not stop the queue", async () => {
    const { queue } = setup()
    const log: string[] = []
    const throwingReject = () => {
      throw new Error('the caller failed too')
    }
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => {
        throw new Error('sync failure')
      },
      throwingReject,
    )
    queue.enqueueRun({ tabId: 'A', lease: 1 }, () => Promise.reject(new Error('async failure')), throwingReject)
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => void log.push('after'),
      () => {},
    )
    await flush()
    expect(log).toEqual(['after'])
  })

  it('onRelease: a step it returns (a rollback) runs before the next lease gets the connection', async () => {
    const log: string[] = []
    const queue = new ClosureQueue({
      idleTimeoutMs: 1000,
      timeoutError: () => new TimeoutError('timeout'),
      onRevoke: () => {},
      onRelease: (lease) => (lease.tabId === 'A' ? () => void log.push(`rollback ${lease.tabId}#${lease.lease}`) : undefined),
    })
    await queue.submit({ tabId: 'A', lease: 1 }, () => void log.push('A begin'))
    const b = queue.submit({ tabId: 'B', lease: 1 }, () => void log.push('B insert'))
    queue.release({ tabId: 'A', lease: 1 })
    await b
    queue.release({ tabId: 'B', lease: 1 })
    // A release by a lease that does not hold the connection asks nothing.
    queue.release({ tabId: 'A', lease: 9 })
    await flush()
    expect(log).toEqual(['A begin', 'rollback A#1', 'B insert'])
  })

  it('runNext: a step of the worker runs after the statement running now, before anything queued', async () => {
    const { queue, log, run } = setup()
    let finish!: () => void
    const a = queue.submit(
      { tabId: 'A', lease: 1 },
      () => new Promise<void>((resolve) => (finish = () => (log.push('a'), resolve()))),
    )
    const b = run('B', 1, 'b')
    const a2 = run('A', 1, 'a2')
    queue.runNext(() => void log.push('step'))
    expect(log).toEqual([])
    finish()
    await a
    await a2
    queue.release({ tabId: 'A', lease: 1 })
    await b
    expect(log).toEqual(['a', 'step', 'a2', 'b'])
  })

  it('drain: waits for the holder to release, no longer than the timeout, and stops when cut', async () => {
    vi.useRealTimers()
    const { queue, run } = setup()
    await run('A', 1, 'a')
    let cut = false
    const drained = queue.drain(60_000, () => cut)
    let done = false
    void drained.then(() => (done = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(done).toBe(false)
    cut = true
    await drained
    expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
  })

  describe('an idle holder outside a transaction (mayYield)', () => {
    it('gives the connection to a waiting lease at once, and takes it again with its next statement', async () => {
      const { queue, log, run, revoked } = setup(1000, () => true)
      await run('A', 1, 'a1')
      await run('B', 1, 'b1')
      expect(queue.holder).toEqual({ tabId: 'B', lease: 1 })
      await run('A', 1, 'a2')
      expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
      // Releasing a lease that gave the connection up changes nothing for the holder.
      queue.release({ tabId: 'B', lease: 1 })
      expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
      expect(log).toEqual(['a1', 'b1', 'a2'])
      expect(revoked).toEqual([])
    })

    it('is not revoked however long it sat idle: it yields instead, and its next statement runs', async () => {
      const { queue, run, revoked } = setup(1000, () => true)
      await run('A', 1, 'a1')
      vi.advanceTimersByTime(5000)
      await run('B', 1, 'b1')
      await run('A', 1, 'a2')
      expect(revoked).toEqual([])
      expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
    })

    it('keeps the connection while a transaction is open: others wait, then it is revoked when idle too long', async () => {
      let open = true
      const { queue, log, run, revoked } = setup(1000, () => !open)
      await run('A', 1, 'a begin')
      const b = run('B', 1, 'b1')
      await flush()
      expect(log).toEqual(['a begin'])
      vi.advanceTimersByTime(1000)
      await b
      expect(revoked).toEqual([{ tabId: 'A', lease: 1 }])
      expect(log).toEqual(['a begin', 'rollback A#1', 'b1'])
      open = false
    })

    it('does not yield while the worker drains (no one else is granted the connection then)', async () => {
      vi.useRealTimers()
      const { queue, run } = setup(1000, () => true)
      await run('A', 1, 'a')
      void queue.drain(30)
      void run('B', 1, 'b').catch(() => {})
      await flush()
      expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
    })
  })

  it('idle: resolves at once with nothing running, else once the running statement has returned', async () => {
    const { queue, run } = setup()
    await queue.idle()
    let finish!: () => void
    const a = queue.submit({ tabId: 'A', lease: 1 }, () => new Promise<void>((resolve) => (finish = resolve)))
    void run('B', 1, 'b').catch(() => {})
    let idle = false
    void queue.idle().then(() => (idle = true))
    queue.revokeAll(new Error('closing'))
    await flush()
    expect(idle).toBe(false)
    finish()
    await a
    await flush()
    expect(idle).toBe(true)
  })

  it('endsLease: the lease is released once its job has run, and the next lease goes', async () => {
    const { queue } = setup()
    const log: string[] = []
    queue.enqueueRun(
      { tabId: 'A', lease: 1 },
      () => void log.push('a1'),
      () => {},
    )
    queue.enqueueRun(
      { tabId: 'B', lease: 1 },
      () => void log.push('b1'),
      () => {},
    )
    expect(log).toEqual(['a1'])
    let finish!: () => void
    const commit = () => new Promise<void>((resolve) => (finish = resolve)).then(() => void log.push('a1 commit'))
    queue.enqueueRun({ tabId: 'A', lease: 1 }, commit, () => {}, true)
    await flush()
    expect(log).toEqual(['a1'])
    expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
    finish()
    await flush()
    expect(log).toEqual(['a1', 'a1 commit', 'b1'])
    queue.release({ tabId: 'B', lease: 1 })
    queue.enqueueRun(
      { tabId: 'C', lease: 1 },
      () => void log.push('c1'),
      () => {},
      true,
    )
    expect(log).toEqual(['a1', 'a1 commit', 'b1', 'c1'])
    expect(queue.holder).toBeUndefined()
  })

  it('endsLease: a job that throws leaves its lease held', () => {
    const { queue } = setup()
    const failed: string[] = []
    const boom = () => {
      throw new Error('boom')
    }
    queue.enqueueRun({ tabId: 'A', lease: 1 }, boom, (e) => failed.push(e.message), true)
    expect(failed).toEqual(['boom'])
    expect(queue.holder).toEqual({ tabId: 'A', lease: 1 })
  })

  it('waited: told how long a job waited behind another lease, not of one that ran at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })
    const waits: number[] = []
    const queue = new ClosureQueue({
      idleTimeoutMs: 60_000,
      timeoutError: () => new TimeoutError('timeout'),
      onRevoke: () => {},
      waited: (ms) => waits.push(ms),
    })
    const enqueue = (tabId: string) => queue.enqueueRun({ tabId, lease: 1 }, noop, noop)
    enqueue('A')
    enqueue('B')
    expect(waits).toEqual([])
    vi.advanceTimersByTime(40)
    queue.release({ tabId: 'A', lease: 1 })
    expect(waits).toEqual([40])
    enqueue('B')
    expect(waits).toEqual([40])
    // Queued behind B, and granted within the same millisecond: not a wait worth telling.
    enqueue('C')
    queue.release({ tabId: 'B', lease: 1 })
    expect(queue.holder).toEqual({ tabId: 'C', lease: 1 })
    expect(waits).toEqual([40])
  })
})
