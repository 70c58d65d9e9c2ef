import { describe, expect, it, vi } from 'vitest'
import { MAX_LOSSES } from '../src/client/failover-policy.js'
import { RequestRouter, type RouterEnv } from '../src/client/request-router.js'
import type { Line } from '../src/protocol/line.js'
import { fakeEnv } from './support/fake-env.js'

/** A router for the tab 'tab-a', on the browser's clock and timers unless `env` is given. */
function newRouter(
  requestTimeoutMs: number,
  answerTimeoutMs?: number,
  statementTimeoutMs?: number,
  env?: RouterEnv,
): RequestRouter {
  const router = new RequestRouter(requestTimeoutMs, answerTimeoutMs, statementTimeoutMs, env)
  router.identify('tab-a')
  return router
}

/** A line that records what the router sends, answered by hand with `answer`. */
function manualLine(onPost?: (message: Record<string, unknown>, answer: (data: unknown) => void) => void) {
  const sent: Array<Record<string, unknown>> = []
  const answer = (data: unknown) => line.onmessage?.({ data } as MessageEvent)
  const line: Line = {
    onmessage: null,
    start() {},
    close() {},
    postMessage(message: unknown) {
      sent.push(message as Record<string, unknown>)
      onPost?.(message as Record<string, unknown>, answer)
    },
  }
  /** The statements, describes and file operations sent, in order. */
  const execs = () => sent.filter((m) => m.t === 'exec' || m.t === 'describe' || m.t === 'admin')
  return { line, sent, answer, execs }
}

/** A line that records what the router sends and answers every statement at once. */
function recordingLine() {
  return manualLine((m, answer) => {
    if (m.t === 'exec') queueMicrotask(() => answer({ t: 'result', id: m.id, changes: 0 }))
  })
}

function routed() {
  const router = newRouter(1000)
  const { line, sent } = recordingLine()
  router.setRoute(1, 'tab-a', line, 'token')
  sent.length = 0 // hello
  return { router, sent }
}

/** A router on route 1 (another tab's worker) whose line is answered by hand; requestTimeoutMs 1000. */
function onManualRoute(env?: RouterEnv) {
  const router = newRouter(1000, undefined, undefined, env)
  const one = manualLine()
  router.setRoute(1, 'tab-b', one.line, 't')
  return { router, one }
}

const nextTask = () => new Promise((resolve) => setImmediate(resolve))

/** What became of `promise` so far ('pending', 'ok', or its error's name), as seen once `settle()` has run. */
function outcome(promise: Promise<unknown>): { now: string; error?: Error } {
  const seen: { now: string; error?: Error } = { now: 'pending' }
  promise.then(
    () => (seen.now = 'ok'),
    (error: Error) => Object.assign(seen, { now: error.name, error }),
  )
  return seen
}

/** Lets the reactions to what the clock's timers settled run (no task passes). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('RequestRouter releases', () => {
  it('a release rides on the next statement when the app sends one right after (queries in a loop)', async () => {
    const { router, sent } = routed()
    for (let lease = 1; lease <= 3; lease++) {
      await router.exec(lease, 'select 1', [], 'read')
      router.release(lease)
      // A few awaits, as Kysely's own between handing back the rows and the app's next query.
      for (let i = 0; i < 5; i++) await Promise.resolve()
    }
    await nextTask()
    expect(sent.map((m) => m.t)).toEqual(['exec', 'exec', 'exec', 'release'])
    expect(sent[1]!.releases).toEqual([1])
    expect(sent[2]!.releases).toEqual([2])
    expect(sent[3]!.leases).toEqual([3])
  })

  it('a release with no statement after it goes alone, within microtasks of the same task, once', async () => {
    const { router, sent } = routed()
    await router.exec(1, 'select 1', [], 'read')
    router.release(1)
    // No task boundary: only microtasks (a bounded number of them) may pass.
    for (let i = 0; i < 200; i++) await Promise.resolve()
    expect(sent).toEqual([expect.objectContaining({ t: 'exec', id: 1, lease: 1 }), { t: 'release', leases: [1] }])
    await nextTask()
    expect(sent).toHaveLength(2)
  })
})

describe('RequestRouter routes', () => {
  it('acceptsRoute says exactly which routes setRoute takes (the tab opens an own line only for those)', () => {
    const router = newRouter(1000)
    const taken = (epoch: number) => {
      const accepts = router.acceptsRoute(epoch)
      let closed = false
      const line: Line = { onmessage: null, start() {}, close: () => void (closed = true), postMessage() {} }
      router.setRoute(epoch, 'tab-a', line, 'token')
      expect(closed).toBe(!accepts)
      return accepts
    }
    expect(taken(5)).toBe(true)
    expect(taken(5)).toBe(false) // the same election again
    expect(taken(4)).toBe(false) // an older one
    router.loseRoute(7, 'closed')
    expect(taken(6)).toBe(false) // older than an epoch already seen lost
    expect(taken(8)).toBe(true)
    router.close()
    expect(taken(9)).toBe(false)
  })

  it("the worker's 'gone' (it let the database go, no coordinator to say so) drops the route: reads go to the next, new statements time out", async () => {
    const router = newRouter(50)
    const lost: string[] = []
    router.onRouteLost = (_route, _epoch, reason) => lost.push(reason)
    const one = manualLine()
    router.setRoute(1, 'tab-b', one.line, 't')
    const read = router.exec(1, 'select 1', [], 'read')
    one.answer({ t: 'gone' })
    expect(lost).toEqual(['coordinator-lost'])
    expect(router.route).toBeUndefined()
    // The read in flight is sent again on the next route.
    const two = manualLine((m, answer) => {
      if (m.t === 'exec') queueMicrotask(() => answer({ t: 'result', id: m.id, changes: 0 }))
    })
    router.setRoute(2, 'tab-c', two.line, 't')
    await expect(read).resolves.toMatchObject({ t: 'result' })
    // A 'gone' on a line the router has left changes nothing.
    one.answer({ t: 'gone' })
    expect(router.route?.epoch).toBe(2)
    // After a 'gone', a statement waits for a route, bounded by requestTimeoutMs, instead of
    // going to a dead line and waiting for good.
    two.answer({ t: 'gone' })
    await expect(router.exec(2, 'select 2', [], 'read')).rejects.toMatchObject({ name: 'NoActiveTabError' })
    expect(two.execs()).toHaveLength(1)
  })
})

/** A router on route 1 (its line answered by hand) with `lease` in a transaction: BEGIN answered "open". */
async function inRawTransaction(lease: number) {
  const { router, one } = onManualRoute()
  const begin = router.exec(lease, 'begin', [], 'raw')
  one.answer({ t: 'result', id: one.execs()[0]!.id, changes: 0, tx: true })
  await begin
  return { router, one }
}

describe('RequestRouter transactions the app began with raw SQL', () => {
  it('a result saying a transaction is open pins the lease: after a hand-off its statements fail, its COMMIT asks', async () => {
    const { router, one } = await inRawTransaction(5)
    // Inside it, a builder write carries no operation id (it is not retried alone) ...
    const insert = router.exec(5, 'insert into t values (1)', [], 'write')
    expect(one.execs()[1]).not.toHaveProperty('op')
    one.answer({ t: 'result', id: one.execs()[1]!.id, changes: 1, tx: true })
    await insert
    // ... and the app's own COMMIT does, so its fate can be asked after a hand-off.
    const commit = router.exec(5, 'commit', [], 'commit')
    expect(one.execs()[2]).toMatchObject({ commit: true, op: expect.any(String) })
    router.loseRoute(1, 'crashed')
    const two = manualLine()
    router.setRoute(2, 'tab-c', two.line, 't')
    expect(two.execs()[0]).toMatchObject({ commit: true, retry: true })
    two.answer({ t: 'error', id: two.execs()[0]!.id, error: { name: 'ActiveTabLostError', message: 'rolled back' } })
    await expect(commit).rejects.toMatchObject({ name: 'ActiveTabLostError' })
    // The next statement of that scope fails rather than run, alone, on the new holder.
    await expect(router.exec(5, 'insert into t values (2)', [], 'write')).rejects.toMatchObject({ name: 'ActiveTabLostError' })
    expect(two.execs()).toHaveLength(1)
  })

  it('a result with no transaction open unpins it again (the app committed or rolled back)', async () => {
    const { router, one } = await inRawTransaction(5)
    const rollback = router.exec(5, 'rollback', [], 'raw')
    one.answer({ t: 'result', id: one.execs()[1]!.id, changes: 0 })
    await rollback
    // Not pinned: a write outside a transaction gets its operation id again.
    void router.exec(5, 'insert into t values (1)', [], 'write')
    expect(one.execs()[2]).toMatchObject({ op: expect.any(String) })
  })
})

describe('RequestRouter raw statements of a transaction lost with its holder', () => {
  it('rolled back (retryable) unless the text could have ended the transaction itself (then unknown)', async () => {
    const { router } = await inRawTransaction(5)
    const outcomes = ['insert into t values (1)', 'savepoint b', 'commit -- done', 'update t set v = 1; commit', 'release a'].map(
      (sql) =>
        router.exec(5, sql, [], 'raw').then(
          () => 'ok',
          (e: Error) => e.name,
        ),
    )
    router.loseRoute(1, 'crashed')
    expect(await Promise.all(outcomes)).toEqual([
      'ActiveTabLostError',
      'ActiveTabLostError',
      'WriteOutcomeUnknownError',
      'WriteOutcomeUnknownError',
      // The app began this transaction itself, perhaps with SAVEPOINT a: RELEASE a may commit it.
      'WriteOutcomeUnknownError',
    ])
  })
})

describe('RequestRouter transactions opened by a failing text', () => {
  it('an error saying a transaction is open pins the lease too (`begin; insert into missing ...`)', async () => {
    const { router, one } = onManualRoute()
    const failing = router.exec(5, 'begin; insert into missing values (1)', [], 'raw')
    one.answer({ t: 'error', id: one.execs()[0]!.id, error: { name: 'SqliteError', message: 'no such table' }, tx: true })
    await expect(failing).rejects.toMatchObject({ name: 'SqliteError' })
    void router.exec(5, 'insert into t values (1)', [], 'write')
    expect(one.execs()[1]).not.toHaveProperty('op')
  })
})

describe('RequestRouter transactions revoked for their idle time', () => {
  it("a LeaseTimeoutError does not end the driver's transaction here: its next statement still goes to the worker", async () => {
    const { router, one } = onManualRoute()
    router.leases.pin(4) // db.transaction()
    const insert = router.exec(4, 'insert into t values (1)', [], 'write')
    one.answer({ t: 'error', id: one.execs()[0]!.id, error: { name: 'LeaseTimeoutError', message: 'idle' } })
    await expect(insert).rejects.toMatchObject({ name: 'LeaseTimeoutError' })
    // The worker remembers the revoked lease and answers its LeaseTimeoutError again, not this tab a TransactionEndedError.
    void router.exec(4, 'insert into t values (2)', [], 'write')
    expect(one.execs()).toHaveLength(2)
  })
})

describe('RequestRouter commit fate across hand-offs', () => {
  it('a retried COMMIT refused by a holder that is handing over, then answered "not committed": the lease stays lost', async () => {
    const { router, one } = await inRawTransaction(7)
    const commit = router.exec(7, 'commit', [], 'commit')
    router.loseRoute(1, 'crashed')
    const two = manualLine()
    router.setRoute(2, 'tab-c', two.line, 't')
    two.answer({ t: 'refused', id: two.execs()[0]!.id })
    router.loseRoute(2, 'manual')
    const three = manualLine()
    router.setRoute(3, 'tab-d', three.line, 't')
    expect(three.execs()[0]).toMatchObject({ commit: true, retry: true })
    three.answer({ t: 'error', id: three.execs()[0]!.id, error: { name: 'ActiveTabLostError', message: 'x' } })
    await expect(commit).rejects.toMatchObject({ name: 'ActiveTabLostError' })
    // So the driver sends no ROLLBACK (which would fail "no transaction is active" and hide this error).
    expect(router.leaseLost(7)).toBe(true)
  })
})

describe('RequestRouter close', () => {
  it('a write in flight fails as outcome unknown (the worker may still apply it); a read as closed', async () => {
    const { router, one } = onManualRoute()
    const write = router.exec(1, 'insert into t values (1)', [], 'write')
    const raw = router.exec(2, 'delete from t', [], 'raw')
    const read = router.exec(3, 'select 1', [], 'read')
    router.close()
    await expect(write).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    await expect(raw).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    await expect(read).rejects.toMatchObject({ name: 'DatabaseClosedError' })
  })

  it('a statement of an open transaction fails as closed (it is rolled back when the tab goes); its COMMIT as unknown', async () => {
    const { router, one } = await inRawTransaction(5)
    const insert = router.exec(5, 'insert into t values (1)', [], 'write')
    const other = await inRawTransaction(6)
    const commit = other.router.exec(6, 'commit', [], 'commit')
    router.close()
    other.router.close()
    await expect(insert).rejects.toMatchObject({ name: 'DatabaseClosedError' })
    await expect(commit).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    expect(one.execs()).toHaveLength(2)
  })

  it('a write waiting to be asked about after a hand-off fails as outcome unknown; one never sent as closed', async () => {
    const { router, one } = onManualRoute()
    const sent = router.exec(1, 'insert into t values (1)', [], 'write')
    router.loseRoute(1, 'closed')
    const unsent = router.exec(2, 'insert into t values (2)', [], 'write')
    router.close()
    await expect(sent).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    await expect(unsent).rejects.toMatchObject({ name: 'DatabaseClosedError' })
  })
})

describe('RequestRouter bounds', () => {
  it(`a read lost with ${MAX_LOSSES} holders in a row is not sent again: not retryable, it may be what brought them down`, async () => {
    const router = newRouter(60_000)
    const lines = [manualLine()]
    router.setRoute(1, 'tab-b', lines[0]!.line, 't')
    const read = router.exec(1, 'select * from huge', [], 'read')
    const write = router.exec(2, 'insert into t values (1)', [], 'write')
    for (let epoch = 1; epoch < MAX_LOSSES; epoch++) {
      router.loseRoute(epoch, 'hung')
      const next = manualLine()
      lines.push(next)
      router.setRoute(epoch + 1, 'tab-b', next.line, 't')
      expect(next.execs()).toHaveLength(2) // resent, the write marked as a retry
      expect(next.execs()[1]).toMatchObject({ retry: true })
    }
    router.loseRoute(MAX_LOSSES, 'hung')
    await expect(read).rejects.toMatchObject({ name: 'ActiveTabLostError', retryable: false })
    await expect(write).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    const last = manualLine()
    router.setRoute(MAX_LOSSES + 1, 'tab-b', last.line, 't')
    expect(last.execs()).toHaveLength(0)
  })

  it('a lease whose read was given up goes on with the next holder: a transaction it begins then is not taken for lost', async () => {
    const router = newRouter(60_000)
    router.setRoute(1, 'tab-b', manualLine().line, 't')
    const read = router.exec(1, 'select * from huge', [], 'read')
    for (let epoch = 1; epoch < MAX_LOSSES; epoch++) {
      router.loseRoute(epoch, 'hung')
      router.setRoute(epoch + 1, 'tab-b', manualLine().line, 't')
    }
    router.loseRoute(MAX_LOSSES, 'hung')
    await expect(read).rejects.toMatchObject({ name: 'ActiveTabLostError', retryable: false })
    const next = manualLine()
    router.setRoute(MAX_LOSSES + 1, 'tab-b', next.line, 't')
    // The same db.connection() scope begins a transaction on the new holder.
    router.leases.pin(1)
    const begin = router.exec(1, 'begin', [], 'raw')
    expect(next.execs()).toMatchObject([{ sql: 'begin', lease: 1 }])
    next.answer({ t: 'result', id: next.execs()[0]!.id, tx: true })
    await expect(begin).resolves.toMatchObject({ t: 'result' })
  })

  it('a file operation that changes the database (import, delete) caught by a hand-off is never run again', async () => {
    const { router, one } = onManualRoute()
    const file = new Uint8Array(1)
    const imported = router.exec(1, '', [], 'raw', { admin: 'import', file })
    expect(one.execs()[0]).toEqual({ t: 'admin', id: expect.any(Number), lease: 1, operation: 'import', file })
    router.loseRoute(1, 'crashed')
    await expect(imported).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    const two = manualLine()
    router.setRoute(2, 'tab-c', two.line, 't')
    expect(two.execs()).toHaveLength(0)
  })

  it('a read older than requestTimeoutMs when its holder goes is not sent again', async () => {
    const { clock, env } = fakeEnv()
    const { router, one } = onManualRoute(env) // requestTimeoutMs 1000
    const read = router.exec(1, 'select 1', [], 'read')
    clock.advance(1500)
    router.loseRoute(1, 'closed')
    await expect(read).rejects.toMatchObject({
      name: 'ActiveTabLostError',
      retryable: false,
      message: expect.stringContaining('older than requestTimeoutMs'),
    })
    expect(one.execs()).toHaveLength(1)
  })

  it('a read just requestTimeoutMs old when its holder goes is sent again (only an older one is not)', async () => {
    const { clock, env } = fakeEnv()
    const { router } = onManualRoute(env) // requestTimeoutMs 1000
    const read = outcome(router.exec(1, 'select 1', [], 'read'))
    clock.advance(1000)
    router.loseRoute(1, 'closed')
    const two = manualLine()
    router.setRoute(2, 'tab-c', two.line, 't')
    expect(two.execs()).toMatchObject([{ sql: 'select 1' }])
    two.answer({ t: 'result', id: two.execs()[0]!.id, changes: 0 })
    await settle()
    expect(read.now).toBe('ok')
  })

  it('a statement whose answer never comes on a live line fails after answerTimeoutMs; a file operation waits on', async () => {
    const { clock, env } = fakeEnv()
    const router = newRouter(1000, 4000, undefined, env)
    const one = manualLine()
    router.setRoute(1, 'tab-b', one.line, 't')
    const read = router.exec(1, 'select 1', [], 'read')
    const write = router.exec(2, "insert into t values ('x')", [], 'raw')
    const exported = router.exec(3, '', [], 'read', { admin: 'export' })
    const settled = vi.fn()
    void read.catch(settled)
    clock.advance(3500)
    await Promise.resolve()
    expect(settled).not.toHaveBeenCalled()
    clock.advance(2000)
    await expect(read).rejects.toMatchObject({ name: 'NoActiveTabError', message: expect.stringContaining('did not answer') })
    await expect(write).rejects.toMatchObject({ name: 'WriteOutcomeUnknownError' })
    // Told to the worker: still queued there, they must not run (and take the lease) later.
    expect(one.sent.filter((m) => m.t === 'withdraw')).toEqual([
      { t: 'withdraw', lease: 1 },
      { t: 'withdraw', lease: 2 },
    ])
    expect(router.depth.inFlight).toBe(1) // the export
    one.answer({ t: 'result', id: one.execs()[2]!.id, file: new Uint8Array(1) })
    await expect(exported).resolves.toMatchObject({ t: 'result' })
    clock.advance(10_000) // nothing in flight: the sweep stops
    expect(clock.pending).toBe(0)
  })

  it('the answer bound counts from each send: not a sweep early, at most one sweep late', async () => {
    const { clock, env } = fakeEnv()
    const router = newRouter(60_000, 4000, undefined, env) // a sweep every 1000 ms
    const one = manualLine()
    router.setRoute(1, 'tab-b', one.line, 't')
    const first = outcome(router.exec(1, 'select 1', [], 'read'))
    clock.advance(2500)
    const second = outcome(router.exec(2, 'select 2', [], 'read')) // sent between two sweeps
    clock.advance(1500) // 4000 ms after the first
    await settle()
    expect(first.now).toBe('pending')
    clock.advance(1000)
    await settle()
    expect(first.now).toBe('NoActiveTabError')
    expect(first.error?.message).toContain('within 4000 ms')
    clock.advance(1500) // 4000 ms after the second
    await settle()
    expect(second.now).toBe('pending')
    clock.advance(500)
    await settle()
    expect(second.now).toBe('NoActiveTabError')
  })

  it('a statement sent again after a hand-off has its whole answer bound on the new holder', async () => {
    const { clock, env } = fakeEnv()
    const router = newRouter(60_000, 4000, undefined, env) // a sweep every 1000 ms
    router.setRoute(1, 'tab-b', manualLine().line, 't')
    const read = outcome(router.exec(1, 'select 1', [], 'read'))
    clock.advance(3000) // three sweeps of its bound gone on the first holder
    router.loseRoute(1, 'crashed')
    const two = manualLine()
    router.setRoute(2, 'tab-c', two.line, 't')
    expect(two.execs()).toHaveLength(1)
    clock.advance(4000) // 4000 ms after it was sent again
    await settle()
    expect(read.now).toBe('pending')
    clock.advance(1000)
    await settle()
    expect(read.now).toBe('NoActiveTabError')
  })

  it('the answer sweep stops with nothing in flight and starts again with the next statement', async () => {
    const { clock, env } = fakeEnv()
    const router = newRouter(60_000, 4000, undefined, env)
    const one = manualLine()
    router.setRoute(1, 'tab-b', one.line, 't')
    expect(clock.pending).toBe(0) // nothing sent yet: no sweep
    const answered = outcome(router.exec(1, 'select 1', [], 'read'))
    expect(clock.pending).toBe(1)
    one.answer({ t: 'result', id: one.execs()[0]!.id, changes: 0 })
    clock.advance(1000)
    await settle()
    expect(answered.now).toBe('ok')
    expect(clock.pending).toBe(0)
    const unanswered = outcome(router.exec(2, 'select 2', [], 'read'))
    expect(clock.pending).toBe(1)
    clock.advance(4000)
    await settle()
    expect(unanswered.now).toBe('pending')
    clock.advance(1000)
    await settle()
    expect(unanswered.now).toBe('NoActiveTabError')
  })

  it('a statement with no route waits requestTimeoutMs for one on the clock, then fails', async () => {
    const { clock, env } = fakeEnv()
    const router = newRouter(1000, undefined, undefined, env)
    const read = outcome(router.exec(1, 'select 1', [], 'read'))
    clock.advance(999)
    await settle()
    expect(read.now).toBe('pending')
    expect(router.depth).toEqual({ inFlight: 0, waiting: 1 })
    clock.advance(1)
    await settle()
    expect(read.now).toBe('NoActiveTabError')
    expect(read.error?.message).toContain('within 1000 ms (requestTimeoutMs)')
    expect(router.depth).toEqual({ inFlight: 0, waiting: 0 })
    expect(clock.pending).toBe(0)
  })

  it('a statement that gets a route within requestTimeoutMs is sent, and its wait no longer bounds it', async () => {
    const { clock, env } = fakeEnv()
    const router = newRouter(1000, undefined, undefined, env)
    const read = outcome(router.exec(1, 'select 1', [], 'read'))
    clock.advance(900)
    const one = manualLine()
    router.setRoute(1, 'tab-b', one.line, 't')
    expect(one.execs()).toMatchObject([{ sql: 'select 1' }])
    expect(clock.pending).toBe(0) // the wait's timer is cleared (and no answer bound: answerTimeoutMs is Infinity)
    clock.advance(5000)
    await settle()
    expect(read.now).toBe('pending')
    one.answer({ t: 'result', id: one.execs()[0]!.id, changes: 0 })
    await settle()
    expect(read.now).toBe('ok')
  })

  it("a request's latency is measured on the router's clock", async () => {
    const { clock, env } = fakeEnv()
    const { router, one } = onManualRoute(env)
    const latencies: number[] = []
    router.onSettled = (ms) => void latencies.push(ms)
    const read = router.exec(1, 'select 1', [], 'read')
    clock.advance(250)
    one.answer({ t: 'result', id: one.execs()[0]!.id, changes: 0 })
    await read
    const failing = router.exec(2, 'select 2', [], 'read')
    clock.advance(40)
    one.answer({ t: 'error', id: one.execs()[1]!.id, error: { name: 'SqliteError', message: 'no such table' } })
    await expect(failing).rejects.toMatchObject({ name: 'SqliteError' })
    expect(latencies).toEqual([250, 40])
  })

  it("a statement's own time limit travels with it, and one above statementTimeoutMs waits that much longer for its answer", async () => {
    const { clock, env } = fakeEnv()
    // answerTimeoutMs 4000 includes statementTimeoutMs 2000; a 10 s limit makes its bound 12 s.
    const router = newRouter(1000, 4000, 2000, env)
    const one = manualLine()
    router.setRoute(1, 'tab-b', one.line, 't')
    const patient = router.exec(1, 'select 1', [], 'read', { timeoutMs: 10_000 })
    const quick = router.exec(2, 'select 2', [], 'read', { timeoutMs: 500 })
    const plain = router.exec(3, 'select 3', [], 'read')
    expect(one.execs().map((m) => m.timeoutMs)).toEqual([10_000, 500, undefined])
    const settled = vi.fn()
    void patient.catch(settled)
    // A shorter limit is the worker's to enforce; its answer waits as long as any other.
    clock.advance(5500)
    await expect(quick).rejects.toMatchObject({ name: 'NoActiveTabError' })
    await expect(plain).rejects.toMatchObject({ name: 'NoActiveTabError' })
    clock.advance(6000)
    await Promise.resolve()
    expect(settled).not.toHaveBeenCalled()
    clock.advance(1500)
    await expect(patient).rejects.toMatchObject({
      name: 'NoActiveTabError',
      message: expect.stringContaining('within 12000 ms'),
    })
  })
})
