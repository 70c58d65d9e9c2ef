// How a tab's Kysely connections map onto leases, on every Kysely line of the peer range (the
// Playwright projects run this file on 0.28 and 0.29): each connection scope is a lease of its own,
// so the only wait between two scopes of one tab is the active worker's lease queue, which
// `leaseTimeoutMs` bounds; and independent queries of one tab travel to the worker together.
import { expect, test, type Page } from '@playwright/test'
import { activeTab } from './support/failover.js'
import { openTab, query, uniqueFilename } from './support/tabs.js'

test('the page runs the Kysely line of its Playwright project', async ({ context }) => {
  const tab = await openTab(context, uniqueFilename('line'))
  // 0.29 exports the Migrator only from 'kysely/migration'; 0.28 from 'kysely' too.
  const migratorInIndex = await tab.evaluate(() => 'Migrator' in window.harness.kysely)
  expect(migratorInIndex).toBe(test.info().project.metadata?.kysely === '0.28')
})

const LEASE_TIMEOUT_MS = 1500

/** Runs `db.transaction()` whose callback queries through the outer `db`; the outcome and its time. */
function outerDbInsideTransaction(page: Page) {
  return page.evaluate(async () => {
    const { sql } = window.harness
    const t0 = performance.now()
    const outcome = await window.db
      .transaction()
      .execute(async (trx: any) => {
        await sql`insert into t (v) values ('in tx')`.execute(trx)
        await sql`select 1`.execute(window.db) // the outer db: waits for this very transaction
        await sql`insert into t (v) values ('after outer')`.execute(trx)
      })
      .then(
        () => ({ name: 'committed', retryable: undefined, message: '' }),
        (e: any) => ({ name: e.name as string, retryable: e.retryable as boolean | undefined, message: e.message as string }),
      )
    return { ...outcome, ms: performance.now() - t0 }
  })
}

for (const where of ['active', 'follower'] as const) {
  test(`the outer db inside db.transaction() on the ${where} tab ends in a LeaseTimeoutError within leaseTimeoutMs, and the tab works after`, async ({
    context,
  }) => {
    const file = uniqueFilename('outer')
    const tabs = [
      await openTab(context, file, { leaseTimeoutMs: LEASE_TIMEOUT_MS }),
      await openTab(context, file, { leaseTimeoutMs: LEASE_TIMEOUT_MS }),
    ]
    await query(tabs[0]!, 'create table t (id integer primary key, v text)')
    await query(tabs[1]!, 'select 1')
    const active = await activeTab(tabs)
    const page = where === 'active' ? active : tabs.find((t) => t !== active)!
    const outcome = await outerDbInsideTransaction(page)
    expect(outcome).toMatchObject({ name: 'LeaseTimeoutError', retryable: false })
    expect(outcome.message).toContain('not the outer db')
    // Kysely 0.29 serialised the connections of an adapter without multiple connections in a
    // mutex of its own, where no lease timeout reached: the call never settled.
    expect(outcome.ms).toBeLessThan(LEASE_TIMEOUT_MS + 1000)
    // Rolled back whole, and both tabs are served afterwards.
    expect(await query(page, 'select count(*) as n from t')).toEqual([{ n: 0 }])
    for (const tab of tabs) await query(tab, "insert into t (v) values ('after')")
    expect(await query(active, 'select count(*) as n from t')).toEqual([{ n: 2 }])
  })
}

test('50 reads from one tab with Promise.all travel to the worker together, not one by one', async ({ context }) => {
  const file = uniqueFilename('pipelined')
  const tabs = [await openTab(context, file), await openTab(context, file)]
  await query(tabs[0]!, 'create table t (id integer primary key, v text)')
  await query(tabs[0]!, "insert into t (v) select 'row ' || value from json_each('[1,2,3,4,5,6,7,8,9,10]')")
  await query(tabs[1]!, 'select 1')
  const active = await activeTab(tabs)
  const follower = tabs.find((t) => t !== active)!
  const result = await follower.evaluate(async () => {
    const db = window.db
    const read = (i: number) =>
      db
        .selectFrom('t')
        .selectAll()
        .where('id', '=', (i % 10) + 1)
        .executeTakeFirstOrThrow()
    // How many statements are in flight at once, sampled while the 50 run (a structural measure:
    // a serialised client never has more than one).
    let maxInFlight = 0
    let sampling = true
    const sample = async () => {
      while (sampling) {
        maxInFlight = Math.max(maxInFlight, window.dialect.metrics().inFlight)
        await new Promise((r) => setTimeout(r, 0))
      }
    }
    for (let i = 0; i < 50; i++) await read(i) // warm: statements prepared, code compiled
    const sampler = sample()
    const t0 = performance.now()
    const together = await Promise.all(Array.from({ length: 50 }, (_, i) => read(i)))
    const togetherMs = performance.now() - t0
    sampling = false
    await sampler
    const t1 = performance.now()
    const oneByOne = []
    for (let i = 0; i < 50; i++) oneByOne.push(await read(i))
    const oneByOneMs = performance.now() - t1
    return { maxInFlight, same: JSON.stringify(together) === JSON.stringify(oneByOne), togetherMs, oneByOneMs }
  })
  // Times are reported, not asserted (npm run bench measures speed); the structure is asserted.
  console.log(
    `50 reads from a follower: Promise.all ${result.togetherMs.toFixed(1)} ms (at most ${result.maxInFlight} in flight), one by one ${result.oneByOneMs.toFixed(1)} ms`,
  )
  expect(result.same).toBe(true)
  expect(result.maxInFlight).toBeGreaterThan(1)
})

test('a db.connection() scope idle outside a transaction lets other tabs through, and goes on after', async ({ context }) => {
  const file = uniqueFilename('yield')
  const options = { leaseTimeoutMs: LEASE_TIMEOUT_MS }
  const tabs = [await openTab(context, file, options), await openTab(context, file, options)]
  await query(tabs[0]!, 'create table t (id integer primary key, v text)')
  await query(tabs[1]!, 'select 1')
  const active = await activeTab(tabs)
  const follower = tabs.find((t) => t !== active)!
  // The follower's scope runs a statement, then waits for the test before its next two.
  await follower.evaluate(() => {
    const { sql } = window.harness
    const w = window as any
    w.gate = new Promise((resolve) => (w.openGate = resolve))
    w.scope = window.db.connection().execute(async (conn: any) => {
      await sql`insert into t (v) values ('scope 1')`.execute(conn)
      w.firstDone = true
      await w.gate
      await sql`insert into t (v) values ('scope 2')`.execute(conn)
      return (await sql<any>`select count(*) as n from t`.execute(conn)).rows[0].n
    })
  })
  await follower.waitForFunction(() => (window as any).firstDone === true)
  // The active tab's write is served while the scope is still open: the scope holds no
  // transaction, so it does not hold the connection either.
  await query(active, "insert into t (v) values ('other tab')")
  expect(await follower.evaluate(() => (window as any).openGate === undefined || 'open')).toBe('open')
  await follower.evaluate(() => (window as any).openGate())
  expect(await follower.evaluate(() => (window as any).scope)).toBe(3)
  expect((await query<{ v: string }>(active, 'select v from t order by id')).map((r) => r.v)).toEqual([
    'scope 1',
    'other tab',
    'scope 2',
  ])
})
