// Transactions and writes at the edges: a COMMIT caught by a failover, a transaction the app began
// with raw SQL, a raw script that starts as a read, the operation ledger's own table. Each test
// failed before the fix it guards (an independent review found them, with reproductions).
import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { activeTab, countTo, rowsForMs, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

/** Three tabs on one new database with table t; returns the active one and two followers. */
async function threeTabs(context: BrowserContext, options: Record<string, unknown> = {}) {
  const file = uniqueFilename('edges')
  // No hang verdicts during the long statements these tests send on purpose.
  const merged = { hangTimeoutMs: 30_000, ...options }
  const tabs = [await openTab(context, file, merged), await openTab(context, file, merged), await openTab(context, file, merged)]
  await query(tabs[0]!, 'create table t (id integer primary key, v text)')
  for (const tab of tabs) await query(tab, 'select 1')
  const a = await activeTab(tabs)
  const former = (await status(a)).tabId
  const [b, c] = tabs.filter((t) => t !== a) as [Page, Page]
  return { a, b, c, former }
}

test('a COMMIT in flight when the active tab closes: rolled back, said so, and its lease does not hold up the next active tab', async ({
  context,
}) => {
  // A lease left held on the new active worker would make every other tab wait this long.
  const { a, b, c, former } = await threeTabs(context, { leaseTimeoutMs: 120_000 })
  // Long enough that it still runs when `a` closes, even if the calibration ran on a loaded machine.
  const slow = countTo(await rowsForMs(b, 6000))
  await b.evaluate((slowSql) => {
    ;(window as any).tx = window.db
      .transaction()
      .execute(async (trx: any) => {
        await trx.insertInto('t').values({ v: 'in tx' }).execute()
        // Not awaited: the COMMIT follows at once, and waits behind it in the active worker.
        trx.executeQuery(window.harness.CompiledQuery.raw(slowSql)).catch(() => {})
        ;(window as any).committing = true
      })
      .then(
        () => 'committed',
        (e: Error) => e.name,
      )
  }, slow)
  await b.waitForFunction(() => (window as any).committing)
  await new Promise((r) => setTimeout(r, 500))
  await a.close()
  // The worker that had the transaction is gone, so it did not commit: the retryable error, not
  // the "no transaction is active" of a ROLLBACK sent to a holder that never had it.
  expect(await b.evaluate(() => (window as any).tx)).toBe('ActiveTabLostError')
  await waitForNewActive(c, former)
  for (const tab of [c, b]) {
    expect(await tryQuery(tab, "insert into t (v) values ('after')")).toMatchObject({ ok: true })
  }
  expect(await query(c, 'select v from t order by id')).toEqual([{ v: 'after' }, { v: 'after' }])
})

test('a transaction begun with raw SQL in db.connection() is pinned: a failover fails the rest of it, all or nothing', async ({
  context,
}) => {
  const { a, b, c, former } = await threeTabs(context)
  await b.evaluate(() => {
    const { sql } = window.harness
    ;(window as any).scope = window.db
      .connection()
      .execute(async (conn: any) => {
        await sql`begin`.execute(conn)
        await conn.insertInto('t').values({ v: 'x1' }).execute()
        ;(window as any).scopeOpen = true
        while (!(window as any).go) await new Promise((r) => setTimeout(r, 20))
        await conn.insertInto('t').values({ v: 'x2' }).execute()
        await sql`commit`.execute(conn)
      })
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
  })
  await b.waitForFunction(() => (window as any).scopeOpen)
  await a.close()
  await waitForNewActive(c, former)
  await b.evaluate(() => ((window as any).go = true))
  // x2 used to be applied alone, in autocommit, on the new holder (and the COMMIT then failed).
  expect(await b.evaluate(() => (window as any).scope)).toBe('ActiveTabLostError')
  expect(await query(c, 'select v from t')).toEqual([])
  // The same pattern with no failover commits both rows, and leaves nothing pinned.
  const again = await b.evaluate(async () => {
    const { sql } = window.harness
    await window.db.connection().execute(async (conn: any) => {
      await sql`begin`.execute(conn)
      await conn.insertInto('t').values({ v: 'y1' }).execute()
      await conn.insertInto('t').values({ v: 'y2' }).execute()
      await sql`commit`.execute(conn)
    })
    return window.db.selectFrom('t').select('v').orderBy('id').execute()
  })
  expect(again).toEqual([{ v: 'y1' }, { v: 'y2' }])
})

test("a raw BEGIN outside any connection scope is rolled back when its query ends: another tab's write never joins it", async ({
  context,
}) => {
  const file = uniqueFilename('edges')
  const [x, y] = [await openTab(context, file), await openTab(context, file)]
  await query(x, 'create table t (v text)')
  expect(await tryQuery(x, 'begin')).toMatchObject({ ok: true })
  // Y's write used to run inside X's open transaction, and X's ROLLBACK then took it away.
  expect(await tryQuery(y, "insert into t values ('from y')")).toMatchObject({ ok: true })
  const rollback = await tryQuery(x, 'rollback')
  expect(rollback).toMatchObject({ ok: false, error: { name: 'SqliteError' } })
  expect(await query(x, 'select v from t')).toEqual([{ v: 'from y' }])
})

test('a raw script that starts with SELECT but also writes is not resent as a read after a failover', async ({ context }) => {
  const { a, b, c, former } = await threeTabs(context)
  // Long enough that it still runs when `a` closes, even if the calibration ran on a loaded machine.
  const slow = countTo(await rowsForMs(b, 6000))
  await b.evaluate((slowSql) => {
    ;(window as any).script = window.db
      .executeQuery(window.harness.CompiledQuery.raw(`select 1; insert into t (v) values ('script'); ${slowSql}`))
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
  }, slow)
  await new Promise((r) => setTimeout(r, 700))
  await a.close()
  // The insert committed on the old holder before it closed; sent again as a read, it ran twice.
  expect(await b.evaluate(() => (window as any).script)).toBe('WriteOutcomeUnknownError')
  await waitForNewActive(c, former)
  expect(await query(c, "select count(*) as n from t where v = 'script'")).toEqual([{ n: 1 }])
})

test('the operation ledger: a first COMMIT that fails (deferred foreign key) leaves later writes working', async ({
  context,
}) => {
  const tab = await openTab(context, uniqueFilename('edges'))
  await query(tab, 'pragma foreign_keys = on')
  await query(tab, 'create table p (id integer primary key)')
  await query(tab, 'create table c (id integer primary key, pid integer references p(id) deferrable initially deferred)')
  const outcomes = await tab.evaluate(async () => {
    const tx = (values: any) =>
      window.db.transaction().execute((trx: any) => trx.insertInto(values.table).values(values.row).execute())
    const first = await tx({ table: 'c', row: { pid: 99 } }).then(
      () => 'committed',
      (e: any) => e.name,
    )
    const write = await window.db
      .insertInto('p')
      .values({ id: 1 })
      .execute()
      .then(
        () => 'ok',
        (e: any) => `${e.name}: ${e.message}`,
      )
    const second = await tx({ table: 'p', row: { id: 2 } }).then(
      () => 'committed',
      (e: any) => `${e.name}: ${e.message}`,
    )
    return { first, write, second }
  })
  expect(outcomes).toEqual({ first: 'SqliteError', write: 'ok', second: 'committed' })
})

test("deleteDatabase leaves no copy of the app's rows in the operation ledger", async ({ context }) => {
  const tab = await openTab(context, uniqueFilename('edges'))
  await query(tab, 'create table secret (id integer primary key, v text)')
  // A builder write outside a transaction: its RETURNING rows are kept for a retry.
  await tab.evaluate(() => window.db.insertInto('secret').values({ v: 'my password' }).returning(['id', 'v']).execute())
  const kept = "select count(*) as n from _kysely_multitab_ops where rows like '%my password%'"
  expect(await query(tab, kept)).toEqual([{ n: 1 }])
  await tab.evaluate(() => window.dialect.deleteDatabase())
  expect(await query(tab, kept)).toEqual([{ n: 0 }])
})

test('a hand-off asked for during a long statement of a transaction lets the transaction finish, though the role lapsed meanwhile', async ({
  context,
}) => {
  const file = uniqueFilename('edges')
  const options = { hangTimeoutMs: 10_000 }
  const [a, b, c] = [
    await openTab(context, file, options),
    await openTab(context, file, options),
    await openTab(context, file, options),
  ]
  await query(a, 'create table t (v text)')
  for (const tab of [a, b, c]) await query(tab, 'select 1')
  expect((await status(a)).role).toBe('active')
  // Longer than the worker's role stays fresh without a heartbeat acknowledged (0.6 of the bound),
  // shorter than a hang verdict (about 0.83).
  const slow = countTo(await rowsForMs(b, 7000))
  await b.evaluate((slowSql) => {
    ;(window as any).tx = window.db
      .transaction()
      .execute(async (trx: any) => {
        await trx.insertInto('t').values({ v: 'tx-1' }).execute()
        ;(window as any).txOpen = true
        await trx.executeQuery(window.harness.CompiledQuery.raw(slowSql))
        await trx.insertInto('t').values({ v: 'tx-2' }).execute()
      })
      .then(
        () => 'committed',
        (e: Error) => e.name,
      )
  }, slow)
  await b.waitForFunction(() => (window as any).txOpen)
  await new Promise((r) => setTimeout(r, 1000))
  const claimed = c.evaluate(() => window.dialect.requestActive())
  expect(await b.evaluate(() => (window as any).tx)).toBe('committed')
  await claimed
  expect((await status(c)).role).toBe('active')
  expect(await query(c, 'select v from t order by rowid')).toEqual([{ v: 'tx-1' }, { v: 'tx-2' }])
})

test('a transaction SQLite rolled back itself (an INSERT OR ROLLBACK conflict the app caught): its later statements fail, none of it stays', async ({
  context,
}) => {
  const { a, b } = await threeTabs(context)
  await query(a, 'create table u (k text unique)')
  await query(a, "insert into u (k) values ('taken')")
  for (const tab of [a, b]) {
    const outcome = await tab.evaluate(async () => {
      const { sql } = window.harness
      const steps: string[] = []
      const result = await window.db
        .transaction()
        .execute(async (trx: any) => {
          await trx.insertInto('u').values({ k: 'first' }).execute()
          await sql`insert or rollback into u (k) values ('taken')`
            .execute(trx)
            .catch((e: Error) => steps.push(`caught ${e.name}`))
          await trx.insertInto('u').values({ k: 'after' }).execute()
          steps.push('after ran')
        })
        .then(
          () => 'committed',
          (e: any) => `${e.name} (retryable: ${e.retryable})`,
        )
      return { steps, result }
    })
    expect(outcome).toEqual({ steps: ['caught SqliteError'], result: 'TransactionEndedError (retryable: true)' })
    // Before, 'after' ran on its own (autocommit) and stayed, and the COMMIT then failed.
    expect(await query(tab, 'select k from u order by k')).toEqual([{ k: 'taken' }])

    // The same with statements sent along with the conflict (Promise.all), before its answer.
    const pipelined = await tab.evaluate(async () => {
      const { sql } = window.harness
      let settled: string[] = []
      const result = await window.db
        .transaction()
        .execute(async (trx: any) => {
          await trx.insertInto('u').values({ k: 'first' }).execute()
          const all = await Promise.allSettled([
            sql`insert or rollback into u (k) values ('taken')`.execute(trx),
            trx.insertInto('u').values({ k: 'sent along 1' }).execute(),
            trx.insertInto('u').values({ k: 'sent along 2' }).execute(),
          ])
          settled = all.map((s) => (s.status === 'fulfilled' ? 'ran' : (s.reason as Error).name))
        })
        .catch((e: any) => e.name)
      return { settled, result }
    })
    expect(pipelined).toEqual({
      settled: ['SqliteError', 'TransactionEndedError', 'TransactionEndedError'],
      result: 'TransactionEndedError',
    })
    expect(await query(tab, 'select k from u order by k')).toEqual([{ k: 'taken' }])
    // The connection and the lease are clean: the next transaction works.
    await tab.evaluate(() => window.db.transaction().execute((trx: any) => trx.insertInto('u').values({ k: 'next' }).execute()))
    await query(tab, "delete from u where k = 'next'")
  }
})
