// The worker's role (docs/architecture.md, "The worker's role") as ActiveDatabase moves it, on a
// manual clock and Web Locks kept in memory, with the real SQLite on the memory storage.
import { afterEach, describe, expect, it } from 'vitest'
import { HANG_MS, closeAll, otherHolder, roleWorker } from './support/role-worker.js'

/** Lets what is queued run (lock grants, the engine's awaits), on the real timers. */
const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))

afterEach(closeAll)

/** A worker elected (epoch 1) while another holds the role lock, then told to go before it came. */
async function abandonedAttempt() {
  const w = roleWorker()
  const other = otherHolder(w.locks)
  w.db.activate(1, false)
  await settle()
  await w.db.deactivate({ drain: false })
  return { w, other }
}

describe('ActiveDatabase: the role lifecycle', () => {
  it('activate: takes the role lock, opens the files, reports activated and serves', async () => {
    const w = roleWorker()
    w.db.activate(1, false)
    await w.reported('activated 1')
    expect(w.sent.find((m) => m.t === 'activated')).toMatchObject({ epoch: 1, storage: 'memory', hangTimeoutMs: HANG_MS })
    expect(w.reports()).toEqual(['activated 1'])
    expect(await w.roleLock()).toEqual({ held: true, pending: 0 })
    expect([w.db.active, w.db.openCount]).toEqual([true, 1])

    const tab = w.tab(1, 'tab-b')
    tab.exec(1, 1, 'select 6 * 7 as x')
    expect(await tab.answer(1)).toMatchObject({ t: 'result', rows: [[42]] })
    // Serving, it heartbeats on the clock it was given.
    const before = w.heartbeats().length
    w.clock.advance(HANG_MS / 6)
    expect(w.heartbeats().slice(before)).toEqual(['1:1'])
  })

  it('acquiring: heartbeats while it waits; a second election takes the attempt over, and only it reports', async () => {
    const w = roleWorker()
    const other = otherHolder(w.locks)
    w.db.activate(1, false)
    await settle()
    w.clock.advance(HANG_MS / 6)
    w.db.activate(2, false)
    w.clock.advance(HANG_MS / 6)
    expect(w.heartbeats()).toEqual(['1:0', '2:0'])
    // One lock request: a second would queue behind the first.
    expect(await w.roleLock()).toEqual({ held: true, pending: 1 })

    other.release()
    await w.reported('activated 2')
    expect(w.reports()).toEqual(['activated 2'])
    expect(w.db.epoch).toBe(2)
  })

  it('a steal supersedes the attempt waiting for the lock, which lets the lock go when granted', async () => {
    const w = roleWorker()
    const hung = otherHolder(w.locks)
    w.db.activate(1, false)
    await settle()
    w.db.activate(2, true, w.env.wallClock())
    await w.reported('activated 2')
    expect((hung.lost as Error)?.name).toBe('AbortError')
    expect(await w.roleLock()).toEqual({ held: true, pending: 1 })

    await w.db.deactivate({ drain: false })
    await expect.poll(() => w.roleLock()).toEqual({ held: false, pending: 0 })
    expect(w.reports()).toEqual(['activated 2', 'deactivated 2'])
    expect(w.logged.filter((e) => e.startsWith('opened the database'))).toEqual(['opened the database'])
  })

  it('abandoned while it waits for the lock: lets the lock go as soon as granted, silent and unopened', async () => {
    const { w, other } = await abandonedAttempt()
    const beats = w.heartbeats().length
    w.clock.advance(HANG_MS)
    expect(w.heartbeats().length).toBe(beats)

    other.release()
    await expect.poll(() => w.roleLock()).toEqual({ held: false, pending: 0 })
    await settle(20)
    expect(w.reports()).toEqual([])
    expect(w.logged).not.toContain('opened the database')
    expect(w.db.active).toBe(false)

    // Back to idle: the next election takes the lock afresh.
    w.db.activate(2, false)
    await w.reported('activated 2')
  })

  it('abandoned, then elected again before the lock comes: the attempt serves the new epoch', async () => {
    const { w, other } = await abandonedAttempt()
    w.db.activate(2, false)
    other.release()
    await w.reported('activated 2')
    expect(w.reports()).toEqual(['activated 2'])
    expect(await w.roleLock()).toEqual({ held: true, pending: 0 })
  })

  it('deactivate with drain: the lease holding the connection finishes, then deactivated and the lock let go', async () => {
    const w = roleWorker()
    w.db.activate(1, false)
    await w.reported('activated 1')
    const a = w.tab(1, 'tab-a')
    const b = w.tab(1, 'tab-b')
    a.exec(1, 1, 'begin')
    expect(await a.answer(1)).toMatchObject({ t: 'result' })

    let left = false
    const leaving = w.db.deactivate({ drain: true }).then(() => (left = true))
    b.exec(1, 1, 'select 1')
    expect(await b.answer(1)).toEqual({ t: 'refused', id: 1 })
    a.exec(2, 1, 'create table t (x)')
    expect(await a.answer(2)).toMatchObject({ t: 'result' })
    await settle(50)
    expect(left).toBe(false)
    expect(w.reports()).toEqual(['activated 1'])
    expect(await w.roleLock()).toEqual({ held: true, pending: 0 })

    a.exec(3, 1, 'commit')
    expect(await a.answer(3)).toMatchObject({ t: 'result' })
    await leaving
    expect(w.reports()).toEqual(['activated 1', 'deactivated 1'])
    expect(await w.roleLock()).toEqual({ held: false, pending: 0 })
    expect([w.db.active, a.closed, b.closed]).toEqual([false, true, true])
  })

  it('its role lock stolen (a hung-worker verdict about it): stops serving, closes, reports deactivated', async () => {
    const w = roleWorker()
    w.db.activate(1, false)
    await w.reported('activated 1')
    const tab = w.tab(1, 'tab-b')

    const thief = otherHolder(w.locks, { steal: true })
    await w.reported('deactivated 1')
    expect([w.db.active, tab.closed]).toEqual([false, true])
    tab.exec(1, 1, 'select 1')
    expect(await tab.answer(1)).toEqual({ t: 'refused', id: 1 })
    // The thief holds the lock; the worker's own request ended when it was stolen.
    expect(await w.roleLock()).toEqual({ held: true, pending: 0 })
    thief.release()
  })

  it('steal: takes the role lock from its holder and serves; a steal sent before this worker stalled is refused', async () => {
    const w = roleWorker()
    const hung = otherHolder(w.locks)
    await settle()
    w.db.activate(1, true, w.env.wallClock())
    await w.reported('activated 1')
    expect((hung.lost as Error)?.name).toBe('AbortError')

    const late = roleWorker()
    late.db.activate(1, true, late.env.wallClock() - HANG_MS - 1)
    expect(late.sent).toMatchObject([{ t: 'activate-failed', epoch: 1, error: { name: 'HandoffError' } }])
    expect(await late.roleLock()).toEqual({ held: false, pending: 0 })
  })
})
