// The multi-tab basics, on one database open in three tabs: every tab reads what any tab wrote,
// a transaction is pinned against the other tabs' writes, SQLite's errors arrive typed in the tab
// that caused them.
import assert from 'node:assert/strict'
import type { BrowserTab } from './driver.js'
import {
  assertCoordinator,
  byRole,
  openDatabaseTabs,
  query,
  status,
  tryQuery,
  uniqueFilename,
  waitUntil,
} from './database-tab.js'
import { step, type Scenario } from './scenario.js'

async function sharedReadsAndWrites(tabs: BrowserTab[]): Promise<void> {
  await query(tabs[1]!, 'create table note (id integer primary key, body text)')
  for (const [i, writer] of tabs.entries()) {
    await query(writer, 'insert into note (body) values (?)', [`from tab ${i}`])
    for (const reader of tabs) {
      const rows = await query<{ body: string }>(reader, 'select body from note order by id')
      assert.deepEqual(
        rows.map((r) => r.body),
        tabs.slice(0, i + 1).map((_, j) => `from tab ${j}`),
      )
    }
  }
  const { active } = await byRole(tabs)
  const activeId = (await status(active)).tabId
  const statuses = await Promise.all(tabs.map(status))
  for (const s of statuses) {
    assert.equal(s.activeTabId, activeId, 'every tab names the same active tab')
    assert.deepEqual([...s.tabs].sort(), statuses.map((t) => t.tabId).sort(), 'every tab sees every open tab')
    // One writer: only the active tab's worker ever opened the OPFS files.
    assert.equal(s.worker.openCount > 0, s.tabId === activeId, `OPFS files open in tab ${s.tabId}`)
  }
}

/** B's transaction stays open until the test lets it go on; C writes meanwhile. */
async function pinnedTransaction(tabs: BrowserTab[]): Promise<void> {
  const { active, followers } = await byRole(tabs)
  // Both followers, so both statements cross tabs to the active worker.
  const [b, c] = followers as [BrowserTab, BrowserTab]
  await query(active, 'create table log (seq integer primary key autoincrement, who text)')
  await b.evaluate(() => {
    const w = window as any
    const gate = new Promise<void>((resolve) => (w.openGate = resolve))
    w.tx = window.db.transaction().execute(async (trx: any) => {
      await trx.insertInto('log').values({ who: 'b1' }).execute()
      w.txOpen = true
      await gate
      const seenInside = await trx.selectFrom('log').select('who').orderBy('seq').execute()
      await trx.insertInto('log').values({ who: 'b2' }).execute()
      return seenInside.map((r: any) => r.who)
    })
  })
  await waitUntil(b, "B's transaction is open", () => (window as any).txOpen === true)
  await c.evaluate(() => {
    const w = window as any
    w.cDone = false
    w.cWrite = window.db
      .insertInto('log')
      .values({ who: 'c1' })
      .execute()
      .then(
        () => 'ok',
        (e: Error) => e.name,
      )
      .finally(() => (w.cDone = true))
  })
  await waitUntil(c, "C's write is sent to the active tab", () => window.dialect.metrics().inFlight > 0)
  assert.equal(await c.evaluate(() => (window as any).cDone), false, "C's write must wait while B's transaction is open")

  await b.evaluate(() => (window as any).openGate())
  assert.deepEqual(await b.evaluate(() => (window as any).tx), ['b1'], "C's write never ran inside B's transaction")
  assert.equal(await c.evaluate(() => (window as any).cWrite), 'ok')
  const rows = await query<{ who: string }>(active, 'select who from log order by seq')
  assert.deepEqual(
    rows.map((r) => r.who),
    ['b1', 'b2', 'c1'],
    "C's write landed after B's commit",
  )
}

async function typedSqliteErrors(tabs: BrowserTab[]): Promise<void> {
  await query(tabs[0]!, 'create table u (email text unique, n integer not null)')
  await query(tabs[0]!, "insert into u values ('a@example.com', 1)")
  const { active, followers } = await byRole(tabs)
  for (const tab of [active, followers[0]!]) {
    const failed = await tab.evaluate(async () => {
      try {
        await window.db.insertInto('u').values({ email: 'a@example.com', n: 2 }).execute()
        return undefined
      } catch (error) {
        return { ...window.harness.describe(error), isSqliteError: error instanceof window.harness.lib.SqliteError }
      }
    })
    assert.ok(failed, 'a duplicate insert must fail')
    const { name, code, resultCode, retryable, isMultiTabError, isSqliteError } = failed
    assert.deepEqual(
      { name, code, resultCode, retryable, isMultiTabError, isSqliteError },
      {
        name: 'SqliteError',
        code: 'SQLITE_CONSTRAINT_UNIQUE',
        resultCode: 2067,
        retryable: false,
        isMultiTabError: true,
        isSqliteError: true,
      },
    )
    assert.match(failed.message ?? '', /UNIQUE constraint failed: u\.email/)
    // The stack shows the worker's frames, then the Kysely call that awaited the query.
    assert.match(failed.stack ?? '', /tab-worker\.js[\s\S]*\/node_modules\/kysely\//)

    const notNull = await tryQuery(tab, 'insert into u (email) values (?)', ['b@example.com'])
    assert.equal(notNull.ok ? 'succeeded' : notNull.error.code, 'SQLITE_CONSTRAINT_NOTNULL')
    const syntax = await tryQuery(tab, 'selec nonsense')
    assert.deepEqual(syntax.ok ? 'succeeded' : [syntax.error.name, syntax.error.code], ['SqliteError', 'SQLITE_ERROR'])
    // The tab's next query works, and nothing of the failed ones was written.
    assert.deepEqual(await query(tab, 'select count(*) as n from u'), [{ n: 1 }])
  }
}

const multiTabBasics: Scenario = {
  name: 'multi-tab basics: shared reads and writes, a pinned transaction, typed SQLite errors',
  async run(driver, coordinator) {
    const tabs = await openDatabaseTabs(driver, uniqueFilename(), coordinator, 3)
    await step('shared reads and writes', () => sharedReadsAndWrites(tabs))
    await assertCoordinator(tabs, coordinator)
    await step('pinned transaction', () => pinnedTransaction(tabs))
    await step('typed SQLite errors', () => typedSqliteErrors(tabs))
  },
}

export const multiTabScenarios: Scenario[] = [multiTabBasics]
