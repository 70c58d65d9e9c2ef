// Failover on close: the tab that holds the database goes; another takes over without losing or
// doubling a write, and queries sent across the hand-off are answered.
import assert from 'node:assert/strict'
import {
  assertCoordinator,
  byRole,
  openDatabase,
  openWithTable,
  query,
  status,
  uniqueFilename,
  waitForNewActive,
  waitUntil,
} from './database-tab.js'
import type { BrowserTab } from './driver.js'
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

/**
 * `tab` inserts rows `b-0`... one by one, `pauseMs` apart, and each must succeed (`what`): when
 * each was answered.
 */
async function writeEach(tab: BrowserTab, count: number, pauseMs: number, what: string): Promise<Array<{ at: number }>> {
  const writes = await tab.evaluate(
    async ([count, pauseMs]) => {
      const outcomes: Array<{ ok: boolean; at: number; error?: string }> = []
      for (let i = 0; i < count; i++) {
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
        await window.db
          .insertInto('t')
          .values({ who: `b-${i}` })
          .execute()
          .then(
            () => outcomes.push({ ok: true, at: Date.now() }),
            (e: Error) => outcomes.push({ ok: false, at: Date.now(), error: `${e.name}: ${e.message}` }),
          )
      }
      return outcomes
    },
    [count, pauseMs] as const,
  )
  assert.deepEqual(
    writes.filter((o) => !o.ok),
    [],
    what,
  )
  return writes
}

const STALL_MS = 10_000

/**
 * A frozen page cannot end its worker: here the page's terminate() does nothing, so a hung
 * worker keeps its files until it wakes, as a frozen tab's does (the page, not frozen, would
 * otherwise end it when the coordinator fences it, and the files would be free at once).
 */
function keepWorkers(): void {
  Worker.prototype.terminate = () => {}
}

const hungActiveWorker: Scenario = {
  name: 'failover: the active worker hangs, keeping its files open; another tab serves (from a copy where the browser allows), each write once',
  async run(driver, coordinator) {
    const filename = uniqueFilename()
    const tags = new Map<BrowserTab, string>()
    for (let i = 0; i < 3; i++) {
      const tag = `${filename}-${i}`
      const options = { hangTimeoutMs: 1500, requestTimeoutMs: 30_000, workerUrl: `/e2e/pages/workers/stallable.js?tag=${tag}` }
      tags.set(await openDatabase(driver, filename, coordinator, options, keepWorkers), tag)
    }
    const tabs = [...tags.keys()]
    await query(tabs[2]!, 'create table t (id integer primary key, who text)')
    for (const tab of tabs) await query(tab, 'select 1')
    const { active, followers } = await byRole(tabs)
    const former = await status(active)
    const [b] = followers as [BrowserTab]
    await query(b, "insert into t (who) values ('before')")

    // The active worker stalls; B writes on meanwhile, and hears when the worker woke up.
    await b.evaluate((tag) => {
      const w = window as any
      // Kept on the window: a channel no one references may be collected, with its listener.
      w.wokeChannel = new BroadcastChannel(`stall:${tag}`)
      w.woke = new Promise((resolve) => {
        w.wokeChannel.onmessage = (e: MessageEvent) => e.data?.wokeAt && resolve(e.data.wokeAt)
      })
    }, tags.get(active)!)
    const stalledAt = await active.evaluate(
      ([tag, ms]) => {
        new BroadcastChannel(`stall:${tag}`).postMessage(ms)
        return Date.now()
      },
      [tags.get(active)!, STALL_MS] as const,
    )
    const writes = await writeEach(b, 5, 0, 'every write while the active worker hung succeeded')
    console.log(
      `    hung active worker (${former.storage}): first write answered ${writes[0]!.at - stalledAt} ms after the stall began`,
    )
    const wokeAt = await b.evaluate(() => (window as any).woke as Promise<number>)
    if (former.storage === 'opfs-sahpool') {
      // Its files are held open by the hung worker: another tab serves a copy, before it wakes.
      assert.notEqual(await waitForNewActive(b, former.tabId), former.tabId)
      assert.ok(writes[0]!.at < wokeAt, 'the first write was answered while the active worker still hung')
      // Awake, it learns it was replaced, lets its files go, and follows.
      await waitUntil(active, 'the hung worker let its files go', async () => {
        const s = await window.dialect.status()
        return !s.worker.active && s.role === 'follower'
      })
    }
    // On 'opfs' (WebKit) the files cannot be copied: the tabs waited for the worker to wake.
    await query(active, "insert into t (who) values ('after')")
    const rows = await query<{ who: string }>(b, 'select who from t order by id')
    assert.deepEqual(
      rows.map((r) => r.who),
      ['before', 'b-0', 'b-1', 'b-2', 'b-3', 'b-4', 'after'],
      'each write exactly once, in order',
    )
    assert.deepEqual(await query(active, 'pragma integrity_check'), [{ integrity_check: 'ok' }])
  },
}

const COORDINATOR_STALL_MS = 15_000

const hungCoordinator: Scenario = {
  name: 'failover: the Web Locks coordinator hangs in its tab, keeping its locks; another tab takes it over, a tab opened meanwhile is served, each write once',
  only: 'web-locks',
  async run(driver, coordinator) {
    const filename = uniqueFilename()
    const tag = `${filename}-coordinator`
    const options = {
      hangTimeoutMs: 1500,
      requestTimeoutMs: 30_000,
      coordinatorUrl: `/e2e/pages/workers/stallable-coordinator.js?tag=${tag}`,
    }
    const tabs: BrowserTab[] = []
    // One by one: the first tab to query joins first and hosts the coordinator.
    for (let i = 0; i < 3; i++) {
      tabs.push(await openDatabase(driver, filename, coordinator, options))
      await query(tabs[i]!, 'select 1')
    }
    const [host, b] = tabs as [BrowserTab, BrowserTab]
    await query(host, 'create table t (id integer primary key, who text)')
    await query(b, "insert into t (who) values ('before')")

    // The host tab's coordinator stalls; its page, not frozen, goes on. B writes meanwhile, and a
    // tab opens, which no coordinator would answer until one is taken over.
    const stalledAt = await host.evaluate(
      ([tag, ms]) => {
        new BroadcastChannel(`stall:${tag}`).postMessage(ms)
        return Date.now()
      },
      [tag, COORDINATOR_STALL_MS] as const,
    )
    const writes = await writeEach(b, 8, 500, 'every write while the coordinator hung succeeded')
    const late = await openDatabase(driver, filename, coordinator, options)
    assert.deepEqual(await query(late, 'select count(*) as n from t'), [{ n: 9 }])
    const servedAt = Date.now()
    console.log(`    hung coordinator: a tab opened meanwhile served ${servedAt - stalledAt} ms after the stall began`)
    assert.ok(servedAt < stalledAt + COORDINATOR_STALL_MS, 'the tab opened meanwhile was served before the stall ended')

    // The stalled coordinator was ended (by its tab, which lost its host lock or took over
    // itself), and its lifetime lock with it: one coordinator is left.
    await waitUntil(
      host,
      'one coordinator is left',
      async (file) => {
        const held = (await navigator.locks.query()).held ?? []
        return held.filter((lock) => lock.name?.startsWith(`kysely-multitab/${file}:coordinator:`)).length === 1
      },
      filename,
    )
    // The host tab follows the new one.
    await query(host, "insert into t (who) values ('after')")
    const rows = await query<{ who: string }>(late, 'select who from t order by id')
    assert.deepEqual(
      rows.map((r) => r.who),
      ['before', ...writes.map((_, i) => `b-${i}`), 'after'],
      'each write exactly once, in order',
    )
    assert.deepEqual(await query(host, 'pragma integrity_check'), [{ integrity_check: 'ok' }])
  },
}

export const failoverScenarios: Scenario[] = [closeActiveTab, watchAcrossClose, hungActiveWorker, hungCoordinator]
