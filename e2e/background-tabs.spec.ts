// Background tabs as browsers treat them: hidden behind other tabs, and frozen (timers and workers
// stopped, files and locks still held). Playwright keeps the pages it launches visible, so these
// tests drive a Chromium of their own over CDP (support/background.ts), where they are real.
import { expect, test, type Page } from '@playwright/test'
import { backgroundBrowserPerTest } from './support/background.js'
import { query, status, uniqueFilename } from './support/tabs.js'
import { writeAfterAndCheck, writeRows } from './support/frozen-writes.js'

const HANG_TIMEOUT_MS = 2000

test.describe.configure({ mode: 'serial' })

const bg = backgroundBrowserPerTest()

test('a frozen active tab, in the middle of its own transaction, is replaced: other tabs are served while it is frozen; resumed, its transaction is lost and it follows, each write once', async () => {
  test.setTimeout(90_000)
  const file = uniqueFilename('freeze')
  // The role stays with the hidden tab (as when every tab is hidden, or before the grace ends).
  const options = { hangTimeoutMs: HANG_TIMEOUT_MS, requestTimeoutMs: HANG_TIMEOUT_MS + 4000, hiddenHandoffMs: false }
  const a = await bg.openTab(file, options)
  const b = await bg.openTab(file, options)
  const c = await bg.openTab(file, options)
  await query(a, 'create table t (k text not null)')
  await writeRows(a, 'before', 3)
  expect((await status(a)).role).toBe('active')
  expect(await a.evaluate(() => document.visibilityState)).toBe('hidden')

  // A's own transaction has one row in, then A freezes between two of its statements.
  await a.evaluate(async () => {
    const w = window as any
    w.trx = await window.db.startTransaction().execute()
    await w.trx.insertInto('t').values({ k: 'a-in-trx' }).execute()
  })
  await bg.freeze(a)
  // The frozen worker keeps its files: another tab takes them over (a copy) once A is declared
  // hung, and serves every write and transaction, each within the tabs' bound.
  const during = (await Promise.all([writeRows(b, 'b', 20), writeRows(c, 'c', 20)])).flat()
  console.log(`frozen active tab: first write answered after ${Math.round(Math.max(during[0]!.ms, during[20]!.ms))} ms`)
  expect(during.filter((o) => !o.ok)).toEqual([])
  expect([(await status(b)).role, (await status(c)).role].sort()).toEqual(['active', 'follower'])

  // Resumed: A's transaction is over (its statements fail retryably), A follows, and every tab is served.
  await bg.resume(a)
  const late = await a.evaluate(async () => {
    const w = window as any
    const next = await w.trx
      .insertInto('t')
      .values({ k: 'a-in-trx-late' })
      .execute()
      .then(
        () => 'applied',
        (e: any) => ({ name: e.name, retryable: e.retryable }),
      )
    await w.trx
      .rollback()
      .execute()
      .catch(() => {})
    return next
  })
  expect(late).toEqual({ name: 'ActiveTabLostError', retryable: true })
  await expect.poll(async () => (await status(a)).worker.active).toBe(false)
  expect((await status(a)).role).toBe('follower')
  // A's transaction is not there.
  await writeAfterAndCheck([a, b, c], during)
})

test("an active tab frozen while it runs another tab's long write: the write is applied once, by the tab that takes over", async () => {
  test.setTimeout(90_000)
  const file = uniqueFilename('freeze-write')
  const options = { hangTimeoutMs: HANG_TIMEOUT_MS, requestTimeoutMs: 30_000, hiddenHandoffMs: false }
  const a = await bg.openTab(file, options)
  const b = await bg.openTab(file, options)
  const c = await bg.openTab(file, options)
  await query(a, 'create table t (k text not null)')
  expect((await status(a)).role).toBe('active')
  // Rows with a long text each, slow to make, enough to fill SQLite's page cache, so that the
  // frozen worker has written pages (and its journal) of the unfinished statement: about 4 s.
  const rows = await c.evaluate(async () => {
    const insert = (n: number, prefix: string) =>
      window.db
        .insertInto('t')
        .columns(['k'])
        .expression(
          window.harness
            .sql`select ${prefix} || x || printf('%.200c', 'x') from (with recursive n(x) as (select 1 union all select x + 1 from n where x < ${n}) select x from n) where (with recursive w(y) as (select x union all select y + 1 from w where y < x + 300) select count(*) from w) > 0`,
        )
        .execute()
    let best = Infinity
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now()
      await insert(2000, 'probe-')
      best = Math.min(best, performance.now() - t0)
    }
    await window.db.deleteFrom('t').execute()
    return Math.round((4000 / best) * 2000)
  })
  const write = c.evaluate(async (n) => {
    const t0 = performance.now()
    try {
      await window.db
        .insertInto('t')
        .columns(['k'])
        .expression(
          window.harness
            .sql`select 'big-' || x || printf('%.200c', 'x') from (with recursive n(x) as (select 1 union all select x + 1 from n where x < ${n}) select x from n) where (with recursive w(y) as (select x union all select y + 1 from w where y < x + 300) select count(*) from w) > 0`,
        )
        .execute()
      return { ok: true, ms: performance.now() - t0 }
    } catch (error: any) {
      return { ok: false, error: `${error.name}: ${error.message}`, ms: performance.now() - t0 }
    }
  }, rows)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await bg.freeze(a)
  const others = await writeRows(b, 'b', 5)
  const outcome = await write
  await bg.resume(a)
  console.log(
    `a ${rows}-row write frozen in the active tab: answered after ${Math.round(outcome.ms)} ms; another tab's first write after ${Math.round(others[0]!.ms)} ms`,
  )
  expect(outcome).toMatchObject({ ok: true })
  expect(others.filter((o) => !o.ok)).toEqual([])
  await expect.poll(async () => (await status(a)).worker.active).toBe(false)
  // The resumed tab is served, and the write is there once, whole.
  expect(await query(a, "select count(*) as n from t where k like 'big-%'")).toEqual([{ n: rows }])
  expect(await query(a, "select count(*) as n from t where k like 'b-%'")).toEqual([{ n: 6 }])
  expect(await query(a, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
})

const roleOf = (page: Page) => page.evaluate(() => window.dialect.status().then((s: any) => s.role as string))

/** Keeps the tab writing rows keyed `<label>-<n>` until `stop()`; the acknowledged keys and the errors. */
async function keepWriting(page: Page, label: string) {
  await page.evaluate((label) => {
    const w = window as any
    w.acked = []
    w.failed = []
    w.writing = true
    w.writer = (async () => {
      for (let n = 0; w.writing; n++) {
        try {
          await window.db
            .insertInto('t')
            .values({ k: `${label}-${n}` })
            .execute()
          w.acked.push(`${label}-${n}`)
        } catch (error: any) {
          w.failed.push(`${label}-${n} ${error.name}: ${error.message}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
  }, label)
  return async () =>
    page.evaluate(async () => {
      const w = window as any
      w.writing = false
      await w.writer
      return { acked: w.acked as string[], failed: w.failed as string[] }
    })
}

test('the role follows the tab in front: each switch moves it once, after hiddenHandoffMs, and no write is lost', async () => {
  test.setTimeout(90_000)
  const file = uniqueFilename('follow')
  const options = { hiddenHandoffMs: 500 }
  const tabs = [await bg.openTab(file, options), await bg.openTab(file, options), await bg.openTab(file, options)]
  await query(tabs[0]!, 'create table t (k text not null)')
  // The oldest tab was elected; hidden, it handed the role to the tab in front.
  await expect.poll(() => roleOf(tabs[2]!)).toBe('active')
  const stops = await Promise.all(tabs.map((tab, i) => keepWriting(tab, `tab${i}`)))
  const handoffsBefore = await Promise.all(
    tabs.map((tab) => tab.evaluate(() => window.events.filter((e) => e.type === 'active-changed').length)),
  )

  const order = [0, 1, 2, 0, 1]
  for (const i of order) {
    await tabs[i]!.bringToFront()
    await expect.poll(() => tabs[i]!.evaluate(() => document.visibilityState)).toBe('visible')
    await expect.poll(() => roleOf(tabs[i]!), { timeout: 10_000 }).toBe('active')
    // Now and until the next switch, the others follow.
    for (const other of tabs) if (other !== tabs[i]) await expect.poll(() => roleOf(other)).toBe('follower')
  }

  const outcomes = await Promise.all(stops.map((stop) => stop()))
  // Each switch moved the role once, for the reason 'hidden', as every tab saw it.
  for (const [t, tab] of tabs.entries()) {
    const changes = await tab.evaluate(() => window.events.filter((e) => e.type === 'active-changed'))
    const during = changes.slice(handoffsBefore[t])
    expect(during.map((e) => e.reason)).toEqual(order.map(() => 'hidden'))
  }
  // Nothing lost: every acknowledged write is there once; a write may wait, none failed.
  const acked = outcomes.flatMap((o) => o.acked)
  expect(outcomes.flatMap((o) => o.failed)).toEqual([])
  const rows = await query<{ k: string; n: number }>(tabs[0]!, 'select k, count(*) as n from t group by k')
  expect(new Map(rows.map((r) => [r.k, r.n]))).toEqual(new Map(acked.map((k) => [k, 1])))
  console.log(`the role followed ${order.length} tab switches with ${order.length} hand-offs; ${acked.length} writes, none lost`)
})

test('a quick look at another tab leaves the role where it is; with hiddenHandoffMs: false it never moves', async () => {
  test.setTimeout(60_000)
  const quick = uniqueFilename('quick')
  const a = await bg.openTab(quick, { hiddenHandoffMs: 3000 })
  const b = await bg.openTab(quick, { hiddenHandoffMs: 3000 })
  await expect.poll(() => roleOf(b), { timeout: 10_000 }).toBe('active')
  await a.bringToFront()
  await new Promise((resolve) => setTimeout(resolve, 500))
  await b.bringToFront()
  await new Promise((resolve) => setTimeout(resolve, 4000))
  expect(await roleOf(b)).toBe('active')
  expect(await b.evaluate(() => window.events.filter((e) => e.type === 'active-changed').map((e) => e.reason))).toEqual([
    'elected',
    'hidden',
  ])

  const never = uniqueFilename('never')
  const c = await bg.openTab(never, { hiddenHandoffMs: false })
  const d = await bg.openTab(never, { hiddenHandoffMs: false })
  expect(await roleOf(c)).toBe('active')
  expect(await c.evaluate(() => document.visibilityState)).toBe('hidden')
  await new Promise((resolve) => setTimeout(resolve, 2500))
  expect(await roleOf(c)).toBe('active')
  expect(await roleOf(d)).toBe('follower')
})
