// Failover on close: the tab that holds the database goes; another takes over without losing or
// doubling a write, and queries sent across the hand-off are answered.
import assert from 'node:assert/strict'
import { assertCoordinator, openWithTable, query, status, waitForNewActive, waitUntil } from './database-tab.js'
import type { Scenario } from './scenario.js'

const closeActiveTab: Scenario = {
  name: 'failover: the active tab closes; another takes over, the data is intact, writes go on',
  async run(driver, coordinator) {
    const {
      tabs,
      active,
      followers,
      activeTabId: former,
    } = await openWithTable(driver, coordinator, 3, 'create table t (id integer primary key, who text)')
    await assertCoordinator(tabs, coordinator)
    const [b, c] = followers as [typeof active, typeof active]
    await query(b, "insert into t (who) values ('before')")

    // B writes without pause from before the close until after the next tab serves.
    await b.evaluate(() => {
      const w = window as any
      w.written = 0
      w.stop = false
      w.loop = (async () => {
        const failures: string[] = []
        for (let i = 0; !w.stop; i++) {
          await window.db
            .insertInto('t')
            .values({ who: `b-${i}` })
            .execute()
            .then(
              () => (w.written = i + 1),
              (e: Error) => failures.push(`b-${i}: ${e.name} ${e.message}`),
            )
        }
        return { written: w.written, failures }
      })()
    })
    await waitUntil(b, 'B has written a few rows', () => (window as any).written >= 3)
    await active.close()

    const next = await waitForNewActive(c, former)
    assert.ok([(await status(b)).tabId, (await status(c)).tabId].includes(next), 'a remaining tab took over')
    const writtenAtHandoff = await b.evaluate(() => (window as any).written as number)
    await waitUntil(b, 'B writes on after the hand-off', (since) => (window as any).written >= since + 3, writtenAtHandoff)
    await b.evaluate(() => void ((window as any).stop = true))
    const loop = await b.evaluate(() => (window as any).loop as Promise<{ written: number; failures: string[] }>)
    assert.deepEqual(loop.failures, [], 'every write across the hand-off succeeded')

    await query(c, "insert into t (who) values ('after')")
    const rows = await query<{ who: string }>(b, 'select who from t order by id')
    const expected = ['before', ...Array.from({ length: loop.written }, (_, i) => `b-${i}`), 'after']
    assert.deepEqual(
      rows.map((r) => r.who),
      expected,
      'each write exactly once, in order',
    )
    assert.deepEqual(await query(c, 'pragma integrity_check'), [{ integrity_check: 'ok' }])
    await assertCoordinator([b, c], coordinator)
    // Every remaining tab was told who serves now, and why: the active tab closed.
    for (const tab of [b, c]) {
      const tabId = (await status(tab)).tabId
      const last = await tab.evaluate(() => {
        const changed = window.events.filter((e) => e.type === 'active-changed').at(-1)
        return { activeTabId: changed?.activeTabId, isThisTab: changed?.isThisTab, reason: changed?.reason }
      })
      const expected = { activeTabId: next, isThisTab: tabId === next, reason: 'closed' }
      assert.deepEqual(last, expected, `the last active-changed event of tab ${tabId}`)
    }
  },
}

const watchAcrossClose: Scenario = {
  name: 'failover: a query watched in another tab follows writes made after the active tab closed',
  async run(driver, coordinator) {
    const {
      active,
      followers,
      activeTabId: former,
    } = await openWithTable(driver, coordinator, 3, 'create table t (id integer primary key, v text)')
    const [b, c] = followers as [typeof active, typeof active]
    await b.evaluate(() => {
      const w = window as any
      w.seen = []
      w.stopWatch = window.dialect.watch(
        window.db.selectFrom('t').select('v').orderBy('id'),
        (rows: Array<{ v: string }>) => w.seen.push(rows.map((r) => r.v)),
        { debounce: 20 },
      )
    })
    await query(c, "insert into t (v) values ('before')")
    await waitUntil(b, 'B saw the first write', () => (window as any).seen.at(-1)?.length === 1)
    await active.close()
    await waitForNewActive(c, former)
    await query(c, "insert into t (v) values ('after')")
    await waitUntil(b, 'B saw the write made after the hand-off', () => (window as any).seen.at(-1)?.length === 2)
    assert.deepEqual(await b.evaluate(() => (window as any).seen.at(-1)), ['before', 'after'])
    await b.evaluate(() => (window as any).stopWatch())
  },
}

export const failoverScenarios: Scenario[] = [closeActiveTab, watchAcrossClose]
