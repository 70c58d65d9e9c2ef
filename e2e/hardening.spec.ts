// What a production app does that tests rarely do: connection settings it relies on across a
// failover, a user's database file with something hidden in it, row ids on a connection every tab
// shares. Each test failed before the change it guards.
import { readFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { activeTab, crashTab, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

const FOREIGN_KEYS = { connectionSetup: ['pragma foreign_keys = on'] }

test('connectionSetup holds on every holder: after the active tab closes, a cascade still deletes the child rows', async ({
  context,
}) => {
  const file = uniqueFilename('setup')
  const tabs = [
    await openTab(context, file, FOREIGN_KEYS),
    await openTab(context, file, FOREIGN_KEYS),
    await openTab(context, file, FOREIGN_KEYS),
  ]
  await query(tabs[0]!, 'create table parent (id integer primary key)')
  await query(tabs[0]!, 'create table child (id integer primary key, parent integer references parent (id) on delete cascade)')
  await query(tabs[0]!, 'insert into parent (id) values (1), (2)')
  await query(tabs[0]!, 'insert into child (parent) values (1), (2)')
  for (const tab of tabs) await query(tab, 'select 1')
  const first = await activeTab(tabs)
  expect(await query(first, 'pragma foreign_keys')).toEqual([{ foreign_keys: 1 }])
  const former = (await status(first)).tabId
  await first.close()
  const rest = tabs.filter((t) => t !== first)
  await waitForNewActive(rest[0]!, former)
  await query(rest[0]!, 'delete from parent where id = 1')
  expect(await query(rest[1]!, 'pragma foreign_keys')).toEqual([{ foreign_keys: 1 }])
  expect(await query(rest[1]!, 'select parent from child')).toEqual([{ parent: 2 }])
  // An orphan is refused on the new holder too.
  expect(await tryQuery(rest[1]!, 'insert into child (parent) values (99)')).toMatchObject({
    ok: false,
    error: { name: 'SqliteError', code: 'SQLITE_CONSTRAINT_FOREIGNKEY' },
  })
})

test('a connectionSetup statement that fails is reported to queries as its SqliteError, naming it, not a hang', async ({
  context,
}) => {
  const tab = await openTab(context, uniqueFilename('setup-bad'), {
    connectionSetup: ['pragma foreign_keys = on', 'create table (oops'],
    requestTimeoutMs: 8000,
  })
  const result = await tryQuery(tab, 'select 1')
  expect(result).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_ERROR', retryable: false } })
  expect(result.ok || result.error.message).toContain('connectionSetup[1]')
})

test('connectionSetup is checked when the dialect is made', async ({ page }) => {
  await page.goto('/e2e/pages/harness.html')
  await page.waitForFunction(() => window.harness !== undefined)
  const error = await page.evaluate(() => {
    try {
      new window.harness.lib.MultiTabOpfsDialect({ filename: 'x.db', connectionSetup: 'pragma foreign_keys = on' })
      return 'accepted'
    } catch (e: any) {
      return `${e.name}: ${e.message}`
    }
  })
  expect(error).toMatch(/^TypeError: connectionSetup must be an array of SQL strings/)
})

test("insertId is this statement's row id, never another tab's: undefined when nothing was inserted", async ({ context }) => {
  const file = uniqueFilename('insert-id')
  const [a, b] = [await openTab(context, file), await openTab(context, file)]
  await query(a, 'create table t (id integer primary key, k text unique, n integer default 0)')
  await query(a, 'create table other (id integer primary key)')
  const run = (page: Page, sqlText: string) =>
    page.evaluate(async (s) => {
      const { sql } = window.harness
      const r = await sql.raw(s).execute(window.db)
      return { insertId: r.insertId?.toString(), changes: r.numAffectedRows?.toString() }
    }, sqlText)
  const builder = (page: Page) =>
    page.evaluate(async () => {
      const r = await window.db
        .insertInto('t')
        .values({ k: 'a' })
        .onConflict((oc: any) => oc.doNothing())
        .executeTakeFirst()
      return { insertId: r.insertId?.toString(), changes: r.numInsertedOrUpdatedRows?.toString() }
    })
  expect(await run(a, "insert into t (k) values ('a')")).toEqual({ insertId: '1', changes: '1' })
  expect(await run(b, 'insert into other (id) values (777)')).toEqual({ insertId: '777', changes: '1' })
  // Inserts nothing: before, the shared connection's last row id (777, the other tab's) came back.
  expect(await builder(a)).toEqual({ insertId: undefined, changes: '0' })
  expect(await run(a, "insert or ignore into t (k) values ('a')")).toEqual({ insertId: undefined, changes: '0' })
  // An upsert that updates inserts no row; one that inserts gives its row id.
  expect(await run(a, "insert into t (k) values ('a') on conflict (k) do update set n = n + 1")).toEqual({
    insertId: undefined,
    changes: '1',
  })
  expect(await run(a, "insert into t (k) values ('b') on conflict (k) do update set n = n + 1")).toEqual({
    insertId: '2',
    changes: '1',
  })
  // Not an insert at all.
  expect(await run(b, 'update t set n = 5')).toEqual({ insertId: undefined, changes: '2' })
  expect(await run(b, "delete from t where k = 'b'")).toEqual({ insertId: undefined, changes: '1' })
})

function importFixture(page: Page, name: string) {
  const bytes = Array.from(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)))
  return page.evaluate(
    (b) =>
      window.dialect.importDatabase(new Uint8Array(b)).then(
        () => undefined,
        (e: any) => window.harness.describe(e),
      ),
    bytes,
  )
}

/** A tab on a new database holding table `keep` with one row, and a first builder write (a ledger entry). */
async function tabWithData(context: Parameters<typeof openTab>[0]) {
  const tab = await openTab(context, uniqueFilename('import'))
  await query(tab, 'create table keep (v text)')
  await tab.evaluate(() => window.db.insertInto('keep').values({ v: 'kept' }).execute())
  return tab
}

async function expectUnchanged(tab: Page) {
  expect(await query(tab, 'select v from keep')).toEqual([{ v: 'kept' }])
  const names = await query<{ name: string }>(
    tab,
    "select name from sqlite_master where type in ('table', 'trigger') order by name",
  )
  expect(names.map((n) => n.name)).toEqual(['_kysely_multitab_ops', 'keep'])
  // Builder writes still work and are still recorded once.
  await tab.evaluate(() => window.db.insertInto('keep').values({ v: 'after' }).execute())
  expect(await query(tab, 'select count(*) as n from keep')).toEqual([{ n: 2 }])
}

test('import runs one statement per schema entry: a table whose schema text hides a COMMIT and more is refused, nothing changes', async ({
  context,
}) => {
  const tab = await tabWithData(context)
  const outcome = await importFixture(tab, 'hidden-statements.db')
  expect(outcome).toMatchObject({ name: 'SqliteError', retryable: false })
  expect(outcome!.message).toContain('more than one statement')
  await expectUnchanged(tab)
})

for (const fixture of ['ledger-trigger.db', 'ledger-wiper.db']) {
  test(`import refuses a file whose triggers reach this library's own table (${fixture}), and nothing changes`, async ({
    context,
  }) => {
    const tab = await tabWithData(context)
    const outcome = await importFixture(tab, fixture)
    expect(outcome).toMatchObject({ name: 'SqliteError', retryable: false })
    expect(outcome!.message).toContain('_kysely_multitab_ops')
    await expectUnchanged(tab)
  })
}

test("no trigger can be made on the library's own table, nor write to it, whatever SQL the app runs", async ({ context }) => {
  const tab = await tabWithData(context)
  const onLedger = await tryQuery(
    tab,
    "create trigger t1 before insert on _kysely_multitab_ops begin select raise(abort, 'x'); end",
  )
  expect(onLedger).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_AUTH' } })
  // A trigger body is compiled when a statement that fires it is: the write that would fire it is refused.
  await query(tab, 'create trigger t2 after insert on keep begin delete from _kysely_multitab_ops; end')
  const recorded = await query(tab, 'select count(*) as n from _kysely_multitab_ops')
  expect(recorded[0]!.n).toBeGreaterThan(0)
  const fired = await tryQuery(tab, "insert into keep (v) values ('x')")
  expect(fired).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_AUTH' } })
  expect(await query(tab, 'select count(*) as n from _kysely_multitab_ops')).toEqual(recorded)
  await query(tab, 'drop trigger t2')
  await expectUnchanged(tab)
})

test('temporary files (a sort that spills, a temp table, a statement journal) stay in memory, not in the fixed OPFS pool', async ({
  context,
}) => {
  const file = uniqueFilename('temp')
  const tabs = [await openTab(context, file), await openTab(context, file)]
  const tab = tabs[1]!
  await query(tab, 'create table big (id integer primary key, v blob, k integer)')
  await query(
    tab,
    'insert into big (v, k) select randomblob(600), abs(random()) % 1000 from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 8000) select x from c)',
  )
  const outcome = await tab.evaluate(async () => {
    const { sql } = window.harness
    try {
      return await window.db.transaction().execute(async (trx: any) => {
        await sql`create temp table scratch as select * from big`.execute(trx)
        await sql`update big set k = k + 1 where id in (select id from scratch where k < 500)`.execute(trx)
        const sorted =
          await sql`select k, count(*) as n from (select * from big union all select * from scratch order by v) group by k order by k limit 1`.execute(
            trx,
          )
        const distinct = await sql`select count(distinct v) as n from (select v from big union select v from scratch)`.execute(
          trx,
        )
        await sql`drop table scratch`.execute(trx)
        return { sorted: sorted.rows.length, distinct: (distinct.rows[0] as any).n }
      })
    } catch (e) {
      return window.harness.describe(e)
    }
  })
  expect(outcome).toEqual({ sorted: 1, distinct: 8000 })
  // The pool holds the database and its journal only (temp_store 2: memory), on every holder.
  expect(await query(tab, 'pragma temp_store')).toEqual([{ temp_store: 2 }])
  const former = (await status(tabs[0]!)).activeTabId!
  await (await activeTab(tabs)).close()
  const rest = tabs.find((t) => !t.isClosed())!
  await waitForNewActive(rest, former)
  expect(await query(rest, 'pragma temp_store')).toEqual([{ temp_store: 2 }])
})

test('an import ended in its middle (its tab crashed) leaves no scratch copy of the file in OPFS: the next holder removes it', async ({
  context,
}) => {
  test.setTimeout(90_000)
  const file = uniqueFilename('scratch')
  // Each tab's worker stalls right after writing the import's scratch copy (8 MB or more at once).
  const options = { workerUrl: '/e2e/pages/workers/stall-after-big-write.js' }
  const tabs = [await openTab(context, file, options), await openTab(context, file, options)]
  await query(tabs[0]!, 'create table t (v blob)')
  const active = await activeTab(tabs)
  const rest = tabs.find((t) => t !== active)!
  const usage = (page: Page) => page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0)
  // A user's 12 MB file (made here by an export), to be imported in the active tab.
  await active.evaluate(async () => {
    const { sql } = window.harness
    await sql`create table incoming (v blob)`.execute(window.db)
    await sql`insert into incoming select randomblob(1000000) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 12) select x from c)`.execute(
      window.db,
    )
    ;(window as any).bytes = await window.dialect.exportDatabase()
    await sql`drop table incoming`.execute(window.db)
    await sql`vacuum`.execute(window.db)
  })
  const before = await usage(rest)
  const former = (await status(active)).tabId
  // The tab crashes while the import runs, its scratch copy of the file written.
  void active.evaluate(() => window.dialect.importDatabase((window as any).bytes)).catch(() => {})
  await expect.poll(() => usage(rest), { timeout: 20_000 }).toBeGreaterThan(before + 10_000_000)
  await crashTab(context, active)
  await waitForNewActive(rest, former, 30_000)
  expect(await query(rest, "select name from sqlite_master where name = 'incoming'")).toEqual([])
  // The scratch copy is gone with its bytes; the database works.
  await expect.poll(() => usage(rest), { timeout: 10_000 }).toBeLessThan(before + 2_000_000)
  await query(rest, "insert into t values (x'00')")
  expect(await query(rest, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
})
