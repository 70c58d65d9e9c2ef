import { expect, test } from '@playwright/test'
import { activeTab, waitForNewActive } from './support/failover.js'
import { openTab, query, status, uniqueFilename } from './support/tabs.js'

declare global {
  interface Window {
    seen: Array<{ tables: string[] | 'all'; reason: string }>
    off?: () => void
  }
}

/** Subscribes in the tab; every notification lands in window.seen. */
async function listen(page: import('@playwright/test').Page, tables?: string[]) {
  await page.evaluate((t) => {
    window.seen = []
    window.off = window.dialect.onTablesChanged(t, (change: any) =>
      window.seen.push({ tables: change.tables === 'all' ? 'all' : [...change.tables].sort(), reason: change.reason }),
    )
  }, tables)
}

const seen = (page: import('@playwright/test').Page) => page.evaluate(() => window.seen)

/** Watches `select column from table` in the tab (window.stop ends it); returns a reader of the runs' values. */
async function watchColumn(page: import('@playwright/test').Page, table: string, column: string) {
  await page.evaluate(
    ([table, column]) => {
      ;(window as any).runs = []
      ;(window as any).stop = window.dialect.watch(
        window.db.selectFrom(table).select(column),
        (rows: any[]) => (window as any).runs.push(rows.map((r) => r[column])),
        { debounce: 20 },
      )
    },
    [table, column] as const,
  )
  return () => page.evaluate(() => (window as any).runs as string[][])
}

test('a commit in one tab notifies every subscribed tab once, with the tables it wrote; rollbacks notify nothing', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table a (v); create table b (v); create table other (v)')
  // Nobody listens yet: the active worker sends nothing.
  expect((await status(await activeTab([a, b, c]))).worker.subscribers).toBe(0)
  await listen(b)
  await listen(a)
  await listen(c, ['other'])
  await expect.poll(async () => (await status(await activeTab([a, b, c]))).worker.subscribers).toBe(3)

  await a.evaluate(() =>
    window.db.transaction().execute(async (trx: any) => {
      await trx.insertInto('a').values({ v: 1 }).execute()
      await trx.insertInto('a').values({ v: 2 }).execute()
      await trx.insertInto('b').values({ v: 3 }).execute()
    }),
  )
  // A rolled-back transaction, and a failed statement, notify nothing.
  await a.evaluate(() =>
    window.db
      .transaction()
      .execute(async (trx: any) => {
        await trx.insertInto('b').values({ v: 4 }).execute()
        throw new Error('roll back')
      })
      .catch(() => {}),
  )
  await a.evaluate(() =>
    window.db
      .insertInto('missing')
      .values({ v: 1 })
      .execute()
      .catch(() => {}),
  )
  await b.evaluate(() => window.db.updateTable('a').set({ v: 9 }).where('v', '=', 1).execute())

  const expected = [
    { tables: ['a', 'b'], reason: 'commit' },
    { tables: ['a'], reason: 'commit' },
  ]
  await expect.poll(() => seen(b)).toEqual(expected)
  await expect.poll(() => seen(a)).toEqual(expected) // the writer hears its own commits too
  await new Promise((r) => setTimeout(r, 200))
  expect(await seen(b)).toEqual(expected) // once per transaction, no more
  expect(await seen(c)).toEqual([]) // listens to 'other' only
  await query(b, 'insert into other values (1)')
  await expect.poll(() => seen(c)).toEqual([{ tables: ['other'], reason: 'commit' }])

  // Unsubscribing stops them, and with no listener left the worker sends nothing.
  for (const page of [a, b, c]) await page.evaluate(() => window.off!())
  await expect.poll(async () => (await status(await activeTab([a, b, c]))).worker.subscribers).toBe(0)
  await query(a, 'insert into a values (10)')
  await new Promise((r) => setTimeout(r, 200))
  expect(await seen(b)).toEqual([...expected, { tables: ['other'], reason: 'commit' }])
})

test('watch re-runs the query when a table it reads changes, and notifications survive a failover', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table todo (id integer primary key, title text)')
  await query(a, 'create view open_todo as select title from todo')
  const runs = await watchColumn(c, 'open_todo', 'title')
  await expect.poll(runs).toEqual([[]])
  await b.evaluate(() => window.db.insertInto('todo').values({ title: 'first' }).execute())
  await expect.poll(runs).toEqual([[], ['first']])
  // A burst of commits is coalesced into few re-runs, the last one current.
  await b.evaluate(async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        window.db
          .insertInto('todo')
          .values({ title: `burst ${i}` })
          .execute(),
      ),
    )
  })
  await expect.poll(async () => (await runs()).at(-1)?.length).toBe(21)
  expect((await runs()).length).toBeLessThan(20)

  // The active tab closes: the watcher hears 'all' and keeps receiving commits from the new one.
  await listen(c)
  const active = await activeTab([a, b, c])
  const former = (await status(active)).tabId
  const writer = [a, b].find((t) => t !== active) ?? c
  await active.close()
  await waitForNewActive(c, former)
  await expect.poll(() => seen(c)).toContainEqual({ tables: 'all', reason: 'handoff' })
  await writer.evaluate(() => window.db.insertInto('todo').values({ title: 'after failover' }).execute())
  await expect.poll(async () => (await runs()).at(-1)?.at(-1)).toBe('after failover')
  await expect.poll(() => seen(c)).toContainEqual({ tables: ['todo'], reason: 'commit' })

  // Stopped: no more runs.
  await c.evaluate(() => (window as any).stop())
  const count = (await runs()).length
  await writer.evaluate(() => window.db.insertInto('todo').values({ title: 'unseen' }).execute())
  await new Promise((r) => setTimeout(r, 300))
  expect((await runs()).length).toBe(count)
})

test('notices follow the schema as it changes, end a transaction by what SQLite ran, and count each statement of a script', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table a (v); create table log (v)')
  await listen(b)
  await expect.poll(async () => (await status(await activeTab([a, b]))).worker.subscribers).toBe(1)
  const insertA = (v: number) => a.evaluate((v) => window.db.insertInto('a').values({ v }).execute(), v)
  await insertA(1) // prepared and kept
  // A trigger added later: the kept insert now writes `log` too (SQLite compiles it again).
  await query(a, 'create trigger a_log after insert on a begin insert into log values (new.v); end')
  await insertA(2)
  // A ROLLBACK that does not start with the word (a comment before it) still undoes the write.
  await a.evaluate(() =>
    window.db.connection().execute(async (conn: any) => {
      const { sql } = window.harness
      await sql`begin`.execute(conn)
      await sql`insert into a values (3)`.execute(conn)
      await sql`/* undo */ rollback`.execute(conn)
    }),
  )
  // A script whose first statement commits (autocommit) and whose second fails: the first stands.
  const failed = await a.evaluate(() =>
    window.harness.sql`insert into log values (4); insert into missing values (1)`.execute(window.db).then(
      () => 'ok',
      (e: Error) => e.name,
    ),
  )
  expect(failed).toBe('SqliteError')
  expect(await query(b, 'select v from log order by rowid')).toEqual([{ v: 2 }, { v: 4 }])
  const before = [
    { tables: ['a'], reason: 'commit' },
    { tables: 'all', reason: 'schema' }, // the new trigger
    { tables: ['a', 'log'], reason: 'commit' },
    { tables: ['log'], reason: 'commit' },
  ]
  await expect.poll(() => seen(b)).toEqual(before) // nothing for the rolled-back insert
  // Neither changes the schema: a VACUUM, and then an existing table "created" again.
  await query(a, 'vacuum')
  await query(a, 'create table if not exists a (v)')
  await new Promise((r) => setTimeout(r, 300))
  expect(await seen(b)).toEqual(before)
  // A temp table does (temp objects live on the one connection every tab shares).
  await query(a, 'create temp table scratch (v)')
  await expect.poll(() => seen(b)).toEqual([...before, { tables: 'all', reason: 'schema' }])
})

test('watch follows a view redefined by another tab: after the schema change it listens to the tables the view reads now', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table old_items (name text); create table new_items (name text)')
  await query(a, 'create view items as select name from old_items')
  const runs = await watchColumn(b, 'items', 'name')
  await expect.poll(runs).toEqual([[]])
  // A migration in another tab points the view at another table.
  await a.evaluate(() =>
    window.db.transaction().execute(async (trx: any) => {
      const { sql } = window.harness
      await sql`drop view items`.execute(trx)
      await sql`create view items as select name from new_items`.execute(trx)
    }),
  )
  await expect.poll(runs).toEqual([[], []]) // the schema notice re-ran it
  await query(a, "insert into new_items values ('seen')")
  await expect.poll(async () => (await runs()).at(-1)).toEqual(['seen'])
  await query(a, "insert into old_items values ('not read any more')")
  await new Promise((r) => setTimeout(r, 300))
  expect((await runs()).at(-1)).toEqual(['seen'])
})
