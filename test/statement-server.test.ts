import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Line } from '../src/protocol/line.js'
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
