import { expect, test, type Page } from '@playwright/test'
import { activeTab, crashTab, stallTabWorker, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

const fast = { hangTimeoutMs: 1500, leaseTimeoutMs: 1500 }

test('close: the active tab closes; another is elected and every tab keeps reading and writing', async ({ context }) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(tabs[1]!, 'create table t (id integer primary key, who text)')
  const first = await activeTab(tabs)
  const former = (await status(first)).tabId
  const [b, c] = tabs.filter((t) => t !== first) as [typeof first, typeof first]
  await query(b, "insert into t (who) values ('before')")

  // Queries already on their way when the tab closes must settle too.
  const inFlight = b.evaluate(async () => {
    const results = []
    for (let i = 0; i < 30; i++) {
      results.push(
        await window.db
          .insertInto('t')
          .values({ who: `b-${i}` })
          .execute()
          .then(
            () => 'ok',
            (e: Error) => e.name,
          ),
      )
    }
    return results
  })
  await new Promise((r) => setTimeout(r, 20))
  await first.close()
  expect(await inFlight).toEqual(new Array(30).fill('ok'))

  const next = await waitForNewActive(b, former)
  expect([await status(b), await status(c)].map((s) => s.tabId)).toContain(next)
  await query(c, "insert into t (who) values ('after')")
  const rows = await query<{ who: string }>(b, 'select who from t order by id')
  expect(rows.map((r) => r.who)).toEqual(['before', ...Array.from({ length: 30 }, (_, i) => `b-${i}`), 'after'])
  const statusB = await status(b)
  expect(statusB.epoch).toBeGreaterThan(1)
})

test('crash: the active renderer dies without unload; another tab takes over with the data', async ({ context }) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(tabs[0]!, 'create table t (v integer)')
  await query(tabs[2]!, 'insert into t values (1)')
  const first = await activeTab(tabs)
  const former = (await status(first)).tabId
  const others = tabs.filter((t) => t !== first)
  await crashTab(context, first)
  await waitForNewActive(others[0]!, former)
  await query(others[1]!, 'insert into t values (2)')
  expect(await query(others[0]!, 'select v from t order by v')).toEqual([{ v: 1 }, { v: 2 }])
  expect(await query(others[0]!, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
})

test('crash of the tab hosting the coordinator: tabs reconnect to a new one and the holder keeps the role', async ({
  context,
}) => {
  const file = uniqueFilename()
  // The first tab starts the SharedWorker, which lives in its renderer process.
  const host = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(host, 'create table t (v integer)')
  await b.evaluate(() => window.dialect.requestActive())
  const holder = (await status(b)).tabId
  await expect.poll(async () => (await status(c)).activeTabId).toBe(holder)
  // The holder writes to its own worker throughout the restart (a new route, a new own line to it).
  const holderWrites = b.evaluate(async () => {
    const w = window as unknown as { stopWrites?: boolean; written: number }
    w.written = 0
    while (!w.stopWrites)
      await window.db
        .insertInto('t')
        .values({ v: 1000 + w.written++ })
        .execute()
    return w.written
  })
  await expect.poll(() => b.evaluate(() => (window as unknown as { written: number }).written)).toBeGreaterThan(0)
  await crashTab(context, host)
  const atCrash = await b.evaluate(() => (window as unknown as { written: number }).written)
  // Built writes carry an operation id, so those in flight while the coordinator restarts are retried once.
  await c.evaluate(async () => {
    for (let i = 0; i < 20; i++) await window.db.insertInto('t').values({ v: i }).execute()
  })
  await b.evaluate(() => ((window as unknown as { stopWrites?: boolean }).stopWrites = true))
  const written = await holderWrites
  expect(written).toBeGreaterThan(atCrash) // it kept writing through the restart, on a new own line
  expect(await query(b, 'select count(*) as n, count(distinct v) as d from t')).toEqual([{ n: 20 + written, d: 20 + written }])
  expect((await status(c)).activeTabId).toBe(holder)
  expect((await status(b)).worker.openCount).toBe(1) // kept the files: no reopen
})

/**
 * Stalls the tab's worker for about 4 s (no heartbeats, no message handled), then sends a raw
 * insert that waits for it, its outcome kept as `window.stall` ('ok' or the error's name).
 */
async function stallWorker(page: Page): Promise<void> {
  await stallTabWorker(page, 4000)
  await page.evaluate(() => {
    ;(window as any).stall = window.db
      .executeQuery(window.harness.CompiledQuery.raw("insert into t (who) values ('stall')"))
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
  })
}

test('hang: a stalled active worker is replaced; when it wakes it is fenced and applies nothing', async ({ context }) => {
  const file = uniqueFilename()
  const options = { ...fast, openAttempts: 60 }
  const tabs = [
    await openTab(context, file, options),
    await openTab(context, file, options),
    await openTab(context, file, options),
  ]
  await query(tabs[0]!, 'create table t (id integer primary key, who text)')
  // Every tab has joined and holds a route to the active tab before it stalls.
  for (const tab of tabs) await query(tab, 'select 1')
  const a = await activeTab(tabs)
  const former = (await status(a)).tabId
  const [b, c] = tabs.filter((t) => t !== a) as [typeof a, typeof a]

  // A's worker stuck (no heartbeats) for about 4 s, a raw write waiting for it.
  await stallWorker(a)
  // A's main thread hangs too, so it cannot terminate its worker when told to: the worker must fence itself.
  const mainHang = a.evaluate(() => {
    const end = performance.now() + 6000
    while (performance.now() < end) {
      // busy
    }
  })
  // C writes while A is stalled: both statements queue behind the stall in A's worker.
  const cWrites = c.evaluate(async () => {
    const { CompiledQuery } = window.harness
    const built = window.db
      .insertInto('t')
      .values({ who: 'c-built' })
      .execute()
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
    const raw = window.db.executeQuery(CompiledQuery.raw("insert into t (who) values ('c-raw')")).then(
      () => 'ok',
      (e: Error) => e.name,
    )
    return Promise.all([built, raw])
  })

  const next = await waitForNewActive(b, former, 30_000)
  expect(next).not.toBe(former)
  const lost = await b.evaluate(() => window.events.find((e) => e.type === 'active-lost'))
  expect(lost?.reason).toBe('hung')
  // Both writes, built and raw, are applied exactly once on the new active tab (A refused them
  // when it woke).
  expect(await cWrites).toEqual(['ok', 'ok'])
  await mainHang
  expect(await a.evaluate(() => (window as any).stall)).toBe('ok')
  const rows = await query<{ who: string }>(c, "select who from t where who like 'c-%' or who = 'stall' order by who")
  expect(rows).toEqual([{ who: 'c-built' }, { who: 'c-raw' }, { who: 'stall' }])
  expect(await query(b, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
  // A is back as a follower with a fresh worker, and works.
  await expect.poll(async () => (await status(a)).role, { timeout: 20_000 }).toBe('follower')
  await query(a, "insert into t (who) values ('a-after')")
  expect(await query(c, "select count(*) as n from t where who = 'a-after'")).toEqual([{ n: 1 }])
})

test('hang of the only tab: it replaces its stalled worker and serves itself again', async ({ context }) => {
  const file = uniqueFilename()
  const tab = await openTab(context, file, { ...fast, openAttempts: 60 })
  await query(tab, 'create table t (id integer primary key, who text)')
  await query(tab, "insert into t (who) values ('before')")
  // The worker stuck (no heartbeats) for about 4 s, well past hangTimeoutMs (1.5 s).
  await stallWorker(tab)
  // Fenced, the tab terminates that worker (its main thread runs) and the coordinator must elect it
  // again, on the fresh worker: there is no other tab. The raw write waiting is applied there, once.
  await expect.poll(() => tab.evaluate(() => (window as any).stall), { timeout: 20_000 }).toBe('ok')
  await expect.poll(async () => (await status(tab)).role, { timeout: 20_000 }).toBe('active')
  await query(tab, "insert into t (who) values ('after')")
  const rows = await query<{ who: string; n: number }>(tab, 'select who, count(*) as n from t group by who order by min(id)')
  expect(rows).toEqual([
    { who: 'before', n: 1 },
    { who: 'stall', n: 1 },
    { who: 'after', n: 1 },
  ])
  expect((await status(tab)).worker.openCount).toBe(1) // the fresh worker's
  const lost = await tab.evaluate(() => window.events.find((e) => e.type === 'active-lost'))
  expect(lost?.reason).toBe('hung')
})

/** Counts, in the page, the tab workers it starts (`window.tabWorkers()`). */
async function countTabWorkers(page: Page): Promise<void> {
  await page.addInitScript(() => {
    let started = 0
    ;(window as unknown as { tabWorkers: () => number }).tabWorkers = () => started
    const Native = window.Worker
    window.Worker = class extends Native {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options)
        if (String(url).includes('tab-worker')) started++
      }
    }
  })
}

test('hang of the only tab, main thread too: its worker wakes and serves first; the tab replaces it once and serves', async ({
  context,
}) => {
  const file = uniqueFilename()
  const tab = await openTab(context, file, { ...fast, openAttempts: 60 }, countTabWorkers)
  await query(tab, 'create table t (id integer primary key, who text)')
  await query(tab, "insert into t (who) values ('before')")
  await stallWorker(tab)
  // The worker is busy for about 4 s, the main thread for 6: the coordinator re-elects the tab on
  // its old worker, which wakes and takes the role up before the tab can act on its fence and
  // terminate it. The tab's fresh worker must then take over at once, not after another hang.
  await tab.evaluate(() => {
    const end = performance.now() + 6000
    while (performance.now() < end) {
      // busy
    }
  })
  await expect.poll(async () => (await status(tab)).role, { timeout: 20_000 }).toBe('active')
  await query(tab, "insert into t (who) values ('after')")
  const rows = await query<{ who: string; n: number }>(tab, 'select who, count(*) as n from t group by who order by min(id)')
  expect(rows.filter((r) => r.who !== 'stall')).toEqual([
    { who: 'before', n: 1 },
    { who: 'after', n: 1 },
  ])
  expect([0, 1]).toContain(rows.find((r) => r.who === 'stall')?.n ?? 0)
  expect(await tab.evaluate(() => (window as unknown as { tabWorkers: () => number }).tabWorkers())).toBe(2)
})

test('manual hand-off: requestActive() and stepDown() move the role; a running transaction finishes first', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table t (v text)')
  const aId = (await status(a)).tabId
  expect((await status(a)).role).toBe('active')

  // C holds a transaction open while B claims the role: C's transaction completes, then B takes over.
  await c.evaluate(() => {
    ;(window as any).tx = window.db
      .transaction()
      .execute(async (trx: any) => {
        await trx.insertInto('t').values({ v: 'c-tx-1' }).execute()
        ;(window as any).txOpen = true
        await new Promise((r) => setTimeout(r, 300))
        await trx.insertInto('t').values({ v: 'c-tx-2' }).execute()
      })
      .then(
        () => 'committed',
        (e: Error) => e.name,
      )
  })
  await c.waitForFunction(() => (window as any).txOpen)
  const bId = await b.evaluate(() => window.dialect.requestActive())
  expect(bId).toBe((await status(b)).tabId)
  expect(await c.evaluate(() => (window as any).tx)).toBe('committed')
  expect((await status(a)).activeTabId).toBe(bId)
  const changed = await a.evaluate(() => window.events.filter((e) => e.type === 'active-changed').map((e) => e.reason))
  expect(changed).toEqual(['elected', 'manual'])

  await query(a, "insert into t values ('after claim')")
  const next = await b.evaluate(() => window.dialect.stepDown())
  expect(next).not.toBe(bId)
  expect([aId, (await status(c)).tabId]).toContain(next)
  await query(b, "insert into t values ('after step down')")
  expect((await query<{ v: string }>(c, 'select v from t')).map((r) => r.v)).toEqual([
    'c-tx-1',
    'c-tx-2',
    'after claim',
    'after step down',
  ])
})

test('a hand-off asked for and still pending when the tab is destroyed fails at once as closed, as does one asked after', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table t (v integer)')
  await query(b, 'select 1') // Kysely's destroy() reaches a dialect only after a query (README, Known limits)
  // A's transaction keeps the hand-off waiting (the role moves when it ends).
  await a.evaluate(() => {
    ;(window as any).tx = window.db.transaction().execute(async (trx: any) => {
      await trx.insertInto('t').values({ v: 1 }).execute()
      ;(window as any).txOpen = true
      await new Promise((r) => setTimeout(r, 2000))
    })
  })
  await a.waitForFunction(() => (window as any).txOpen)
  const outcome = await b.evaluate(async () => {
    const claim = window.dialect.requestActive().then(
      () => 'resolved',
      (e: Error) => e.name,
    )
    await new Promise((r) => setTimeout(r, 100))
    const t0 = performance.now()
    await window.db.destroy()
    const pending = await claim
    const after = await window.dialect.stepDown().then(
      () => 'resolved',
      (e: Error) => e.name,
    )
    return { pending, after, ms: performance.now() - t0 }
  })
  // Not the requestTimeoutMs (10 s) later NoActiveTabError it used to be.
  expect(outcome).toMatchObject({ pending: 'DatabaseClosedError', after: 'DatabaseClosedError' })
  expect(outcome.ms).toBeLessThan(1500)
  await a.evaluate(() => (window as any).tx)
  expect(await query(a, 'select v from t')).toEqual([{ v: 1 }])
})

test('stepDown() by a tab elected but still opening the database: it steps down once open, and says to whom', async ({
  context,
}) => {
  const file = uniqueFilename()
  const [a, b, c] = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(a, 'create table t (v text)')
  for (const tab of [b, c]) await query(tab, 'select 1')
  const former = (await status(a)).tabId
  const cId = (await status(c)).tabId
  // B (next in line) gets its wasm late, so it is still opening when it asks to step down.
  let asked = false
  await context.route('**/wa-sqlite.wasm', async (route) => {
    asked = true
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await route.continue()
  })
  await a.close()
  await expect.poll(() => asked).toBe(true)
  // B has heard that A is gone (under web-locks that can come after B's worker was told to open):
  // until then it believes A active, and stepDown() answers with A's id, doing nothing.
  await expect.poll(async () => (await status(b)).activeTabId).not.toBe(former)
  // It used to keep the role, and stepDown() answered with its own id.
  expect(await b.evaluate(() => window.dialect.stepDown())).toBe(cId)
  expect(await waitForNewActive(c, former)).toBe(cId)
  await query(b, "insert into t values ('after')")
  expect(await query(c, 'select v from t')).toEqual([{ v: 'after' }])
})

test('in flight at failover: reads retried, built writes exactly once, transactions fail retryably with all-or-nothing', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table t (id integer primary key, v text)')
  const former = (await status(a)).tabId

  // B: a transaction that is open when A closes.
  await b.evaluate(() => {
    ;(window as any).tx = window.db
      .transaction()
      .execute(async (trx: any) => {
        await trx.insertInto('t').values({ v: 'tx-1' }).execute()
        ;(window as any).txOpen = true
        await new Promise((r) => setTimeout(r, 800))
        await trx.insertInto('t').values({ v: 'tx-2' }).execute()
      })
      .then(
        () => ({ ok: true }),
        (e: any) => ({ name: e.name, retryable: e.retryable }),
      )
  })
  await b.waitForFunction(() => (window as any).txOpen)
  // C: a stream of reads and writes that spans the failover.
  const cWork = c.evaluate(async () => {
    const errors: string[] = []
    let reads = 0
    for (let i = 0; i < 40; i++) {
      await window.db
        .insertInto('t')
        .values({ v: `c-${i}` })
        .execute()
        .catch((e: Error) => errors.push(e.name))
      await window.db
        .selectFrom('t')
        .selectAll()
        .execute()
        .then(
          () => reads++,
          (e: Error) => errors.push(e.name),
        )
    }
    return { errors, reads }
  })
  await new Promise((r) => setTimeout(r, 100))
  await a.close()
  expect(await cWork).toEqual({ errors: [], reads: 40 })
  expect(await b.evaluate(() => (window as any).tx)).toEqual({ name: 'ActiveTabLostError', retryable: true })
  await waitForNewActive(b, former)
  const rows = await query<{ v: string }>(c, 'select v from t order by id')
  expect(rows.filter((r) => r.v.startsWith('tx-'))).toEqual([]) // none of the transaction
  expect(rows.map((r) => r.v)).toEqual(Array.from({ length: 40 }, (_, i) => `c-${i}`)) // each write once
})

test('a dead tab’s transaction is rolled back at once; an idle lease is revoked after leaseTimeoutMs', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file, fast)
  const b = await openTab(context, file, fast)
  const c = await openTab(context, file, fast)
  await query(a, 'create table t (v text)')

  // C (a follower) opens a transaction and closes without finishing it.
  await c.evaluate(async () => {
    const trx = await window.db.startTransaction().execute()
    await trx.insertInto('t').values({ v: 'from dead tab' }).execute()
  })
  const blocked = b.evaluate(async () => {
    const t0 = performance.now()
    await window.db.insertInto('t').values({ v: 'b' }).execute()
    return performance.now() - t0
  })
  await new Promise((r) => setTimeout(r, 200))
  await c.close()
  await blocked
  expect(await query(a, 'select v from t')).toEqual([{ v: 'b' }])

  // B opens a controlled transaction and goes idle; A's write waits at most ~leaseTimeoutMs.
  await b.evaluate(async () => {
    ;(window as any).trx = await window.db.startTransaction().execute()
    await (window as any).trx.insertInto('t').values({ v: 'idle' }).execute()
  })
  await a.evaluate(() => window.db.insertInto('t').values({ v: 'a' }).execute())
  const late = await b.evaluate(() =>
    (window as any).trx
      .insertInto('t')
      .values({ v: 'too late' })
      .execute()
      .then(
        () => 'ok',
        (e: any) => ({ name: e.name, retryable: e.retryable }),
      ),
  )
  expect(late).toEqual({ name: 'LeaseTimeoutError', retryable: true })
  await b.evaluate(() =>
    (window as any).trx
      .rollback()
      .execute()
      .catch(() => {}),
  )
  expect((await query<{ v: string }>(a, 'select v from t')).map((r) => r.v)).toEqual(['b', 'a'])
  // B's connection works again afterwards.
  await query(b, "insert into t values ('b again')")
})

test('no request hangs when every other tab closes, or when the last tab is destroyed', async ({ context }) => {
  const file = uniqueFilename()
  const tabs = [
    await openTab(context, file),
    await openTab(context, file),
    await openTab(context, file),
    await openTab(context, file),
  ]
  await query(tabs[0]!, 'create table t (v integer)')
  const last = tabs[3]!
  const work = last.evaluate(async () => {
    const outcomes: string[] = []
    for (let i = 0; i < 50; i++) {
      outcomes.push(
        await window.db
          .insertInto('t')
          .values({ v: i })
          .execute()
          .then(
            () => 'ok',
            (e: Error) => e.name,
          ),
      )
    }
    return outcomes
  })
  await Promise.all(tabs.slice(0, 3).map((t) => t.close()))
  expect(await work).toEqual(new Array(50).fill('ok'))
  expect(await query(last, 'select count(*) as n from t')).toEqual([{ n: 50 }])
  const afterDestroy = await last.evaluate(async () => {
    const pending = window.db
      .selectFrom('t')
      .selectAll()
      .execute()
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
    await window.db.destroy()
    const later = await window.db
      .selectFrom('t')
      .selectAll()
      .execute()
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
    return [await pending, later]
  })
  expect(['ok', 'DatabaseClosedError']).toContain(afterDestroy[0])
  // After destroy(), Kysely itself refuses (its driver is gone): an error, not a hang.
  expect(afterDestroy[1]).toMatch(/Error$/)
  // status() asks the worker, which destroy() terminated: it answers for it rather than wait.
  expect(await status(last)).toMatchObject({ role: 'closed', worker: { active: false } })
})

test('a db.connection() scope that spans a failover continues on the new active tab and releases it', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table t (v text)')
  const former = (await status(a)).tabId
  await b.evaluate(() => {
    ;(window as any).scope = window.db.connection().execute(async (conn: any) => {
      await conn.insertInto('t').values({ v: 'before' }).execute()
      ;(window as any).inScope = true
      await new Promise((r) => setTimeout(r, 800))
      await conn.insertInto('t').values({ v: 'after' }).execute()
    })
  })
  await b.waitForFunction(() => (window as any).inScope)
  await a.close()
  await b.evaluate(() => (window as any).scope)
  await waitForNewActive(c, former)
  // The scope's lease on the new active tab was released: C's write does not wait for a revocation.
  await query(c, "insert into t values ('c')")
  const metrics = await c.evaluate(() => window.dialect.databaseMetrics())
  expect(metrics.revokedLeases).toBe(0)
  expect((await query<{ v: string }>(c, 'select v from t order by rowid')).map((r) => r.v)).toEqual(['before', 'after', 'c'])
})
