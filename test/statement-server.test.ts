import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Line } from '../src/protocol/line.js'
import type { OpLedger } from '../src/worker/op-ledger.js'
import type { SqliteEngine } from '../src/worker/sqlite-engine.js'
import { RoleFreshness } from '../src/worker/role-freshness.js'
import { StatementServer } from '../src/worker/statement-server.js'

const BOUND = 600

/** A line whose other end is the test: what the server posts is kept, what the tab sends is `send`. */
function tabLine() {
  const posted: any[] = []
  const line: Line = { postMessage: (m) => posted.push(m), onmessage: null, start() {}, close() {} }
  return { line, posted, send: (data: unknown) => line.onmessage!({ data } as MessageEvent) }
}

/** An engine whose statements end when the test says. */
function slowEngine() {
  const running: Array<() => void> = []
  const engine = {
    inTransaction: false,
    stopped: false,
    hasCommittedWrites: false,
    startRequest() {},
    endRequest() {},
    exec: () => new Promise((resolve) => running.push(() => resolve({ rows: [{ x: 1 }] }))),
  }
  return { engine: engine as unknown as SqliteEngine, finish: () => running.shift()!() }
}

function server() {
  const beats: number[] = []
  const freshness = new RoleFreshness({ hangTimeoutMs: BOUND, send: (seq) => beats.push(seq), onLost: () => {} })
  const { engine, finish } = slowEngine()
  const role = {
    engine: engine as SqliteEngine | undefined,
    ledger: undefined,
    leaving: false,
    draining: false,
    freshness,
    replaced: false,
  }
  const served = new StatementServer({ leaseTimeoutMs: 10_000, statementTimeoutMs: 0, filename: 'x.db' }, role, () => {})
  const tab = tabLine()
  served.attach('tab1', tab.line, 'secret')
  tab.send({ t: 'hello', token: 'secret' })
  freshness.start()
  return { freshness, beats, finish, tab, role }
}

const settle = () => vi.advanceTimersByTimeAsync(0)

/**
 * Runs a statement past the role's freshness (no acknowledgement is heard while it runs) and lets
 * it end: its answer waits for the coordinator.
 */
async function staleStatement({ tab, finish }: ReturnType<typeof server>) {
  tab.send({ t: 'exec', id: 1, lease: 1, sql: 'select 1', params: [] })
  await settle()
  await vi.advanceTimersByTimeAsync(BOUND * 1.5)
  finish()
  await settle()
  expect(tab.posted).toEqual([])
}

describe('StatementServer: answers of statements that ran while the worker stalled', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers at once while the role is fresh', async () => {
    const { finish, tab } = server()
    tab.send({ t: 'exec', id: 1, lease: 1, sql: 'select 1', params: [] })
    await settle()
    finish()
    await settle()
    expect(tab.posted).toEqual([{ t: 'result', id: 1, rows: [{ x: 1 }] }])
  })

  it('keeps the answer when the role went stale while it ran, until the coordinator says the role is still held', async () => {
    const served = server()
    const { freshness, beats, tab } = served
    await staleStatement(served)
    // It asked again (its latest heartbeat); the coordinator still has it as the active worker.
    freshness.acknowledge(beats.at(-1)!)
    await settle()
    expect(tab.posted).toEqual([{ t: 'result', id: 1, rows: [{ x: 1 }] }])
  })

  it('keeps it at once when the worker was told to go without a drain (replaced); sends it when it closes after a hand-off', async () => {
    const replaced = server()
    replaced.tab.send({ t: 'exec', id: 1, lease: 1, sql: 'insert into t values (1)', params: [] })
    await settle()
    await vi.advanceTimersByTimeAsync(BOUND)
    replaced.role.replaced = true
    replaced.role.engine = undefined
    replaced.finish()
    await vi.advanceTimersByTimeAsync(BOUND * 3)
    expect(replaced.tab.posted).toEqual([])

    const handedOff = server()
    handedOff.tab.send({ t: 'exec', id: 2, lease: 1, sql: 'select 1', params: [] })
    await settle()
    await vi.advanceTimersByTimeAsync(BOUND)
    handedOff.role.engine = undefined
    handedOff.finish()
    await settle()
    expect(handedOff.tab.posted).toEqual([{ t: 'result', id: 2, rows: [{ x: 1 }] }])
  })

  it('sends it when a hand-off closes the files while it asks the coordinator', async () => {
    const served = server()
    const { freshness, tab, role } = served
    await staleStatement(served)
    // The drain ends and the worker closes the files (no replacement): the renewal gives up.
    role.engine = undefined
    freshness.stop()
    await settle()
    expect(tab.posted).toEqual([{ t: 'result', id: 1, rows: [{ x: 1 }] }])
  })

  it('never sends the answer when the role was lost meanwhile (another tab serves a copy of the files)', async () => {
    const { freshness, finish, tab } = server()
    tab.send({ t: 'exec', id: 1, lease: 1, sql: 'insert into t values (1)', params: [] })
    await settle()
    await vi.advanceTimersByTimeAsync(BOUND * 3)
    finish()
    await settle()
    // No acknowledgement: the role is gone (the worker lets the files go).
    freshness.stop()
    await vi.advanceTimersByTimeAsync(BOUND * 3)
    expect(tab.posted).toEqual([])
  })
})

/** Two tabs, A and B, on one server; the engine's statements end when the test says. */
function twoTabs() {
  const freshness = new RoleFreshness({ hangTimeoutMs: BOUND, send: () => {}, onLost: () => {} })
  const { engine, finish } = slowEngine()
  const ledger = { commit: async () => ({ rows: [] }) }
  const role = {
    engine: engine as SqliteEngine | undefined,
    ledger: ledger as unknown as OpLedger,
    leaving: false,
    draining: false,
    freshness,
    replaced: false,
  }
  const served = new StatementServer({ leaseTimeoutMs: 10_000, statementTimeoutMs: 0, filename: 'x.db' }, role, () => {})
  const a = tabLine()
  const b = tabLine()
  served.attach('A', a.line, 'token-a')
  a.send({ t: 'hello', token: 'token-a' })
  served.attach('B', b.line, 'token-b')
  b.send({ t: 'hello', token: 'token-b' })
  freshness.start()
  return { served, a, b, finish, engine, role }
}

describe('StatementServer: leases, operations and what tabs hear', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a retried COMMIT ends its lease here: a draining worker takes nothing more of that lease', async () => {
    const { a, role } = twoTabs()
    a.send({ t: 'exec', id: 1, lease: 1, sql: 'commit', params: [], op: 'A:1', commit: true, retry: true })
    await settle()
    expect(a.posted).toEqual([{ t: 'result', id: 1, rows: [] }])
    role.leaving = true
    role.draining = true
    a.send({ t: 'exec', id: 2, lease: 1, sql: 'select 1', params: [] })
    await settle()
    expect(a.posted.at(-1)).toEqual({ t: 'refused', id: 2 })
  })

  it('a lease that still holds the connection may go on while the worker drains', async () => {
    const { a, role, finish } = twoTabs()
    a.send({ t: 'exec', id: 1, lease: 1, sql: 'select 1', params: [] })
    await settle()
    finish()
    await settle()
    role.leaving = true
    role.draining = true
    a.send({ t: 'exec', id: 2, lease: 1, sql: 'select 2', params: [] })
    await settle()
    finish()
    await settle()
    expect(a.posted).toEqual([
      { t: 'result', id: 1, rows: [{ x: 1 }] },
      { t: 'result', id: 2, rows: [{ x: 1 }] },
    ])
  })

  it('counts a wait behind another lease, and answers stats with it', async () => {
    const { a, b, finish } = twoTabs()
    a.send({ t: 'exec', id: 1, lease: 1, sql: 'select 1', params: [] })
    b.send({ t: 'exec', id: 2, lease: 1, sql: 'select 1', params: [] })
    await settle()
    await vi.advanceTimersByTimeAsync(25)
    finish()
    await settle()
    finish()
    await settle()
    a.send({ t: 'admin', id: 3, lease: 2, operation: 'stats' })
    await settle()
    const stats = a.posted.find((m) => m.id === 3)?.stats
    expect(stats).toMatchObject({ statements: 3, leaseWaits: 1, tabs: 2, queueDepth: 0 })
    expect(stats.leaseWaitMs).toBeGreaterThanOrEqual(25)
  })

  it('stop() refuses what waits (its tab sends it to the next holder); the one running is answered', async () => {
    const { served, a, b, finish } = twoTabs()
    a.send({ t: 'exec', id: 1, lease: 1, sql: 'select 1', params: [] })
    b.send({ t: 'exec', id: 2, lease: 1, sql: 'select 1', params: [] })
    await settle()
    const stopped = served.stop(1000)
    expect(b.posted).toEqual([{ t: 'refused', id: 2 }])
    finish()
    await stopped
    expect(a.posted).toEqual([{ t: 'result', id: 1, rows: [{ x: 1 }] }])
  })

  it('describe is answered with the tables, without running the statement', async () => {
    const { a, engine } = twoTabs()
    const ran: string[] = []
    Object.assign(engine, {
      exec: (sql: string) => ran.push(sql),
      describe: async () => ({ reads: new Set(['t']), writes: new Set(['u']) }),
    })
    a.send({ t: 'describe', id: 1, lease: 1, sql: 'insert into u select * from t' })
    await settle()
    expect(a.posted).toEqual([{ t: 'result', id: 1, reads: ['t'], writes: ['u'] }])
    expect(ran).toEqual([])
  })

  it('tells subscribed tabs which tables a commit wrote, after its answer, the writer too', async () => {
    const { a, b, engine } = twoTabs()
    let written = false
    Object.defineProperty(engine, 'hasCommittedWrites', { get: () => written })
    Object.assign(engine, {
      exec: async () => {
        written = true
        return { rows: [] }
      },
      takeCommittedWrites: () => {
        written = false
        return { tables: new Set(['t']), schema: false }
      },
    })
    a.send({ t: 'subscribe', on: true })
    b.send({ t: 'subscribe', on: true })
    a.send({ t: 'exec', id: 1, lease: 1, sql: 'insert into t values (1)', params: [] })
    await settle()
    expect(a.posted).toEqual([
      { t: 'result', id: 1, rows: [] },
      { t: 'changes', tables: ['t'] },
    ])
    expect(b.posted).toEqual([{ t: 'changes', tables: ['t'] }])
    b.send({ t: 'subscribe', on: false })
    a.send({ t: 'exec', id: 2, lease: 1, sql: 'insert into t values (2)', params: [] })
    await settle()
    expect(b.posted).toHaveLength(1)
  })
})
