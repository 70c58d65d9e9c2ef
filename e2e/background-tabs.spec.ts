// Background tabs as browsers treat them: hidden behind other tabs, and frozen (timers and workers
// stopped, files and locks still held). Playwright keeps the pages it launches visible, so these
// tests drive a Chromium of their own over CDP (support/background.ts), where they are real.
import { expect, test, type Page } from '@playwright/test'
import { startBackgroundBrowser, type BackgroundBrowser } from './support/background.js'
import { query, status, uniqueFilename } from './support/tabs.js'

const HANG_TIMEOUT_MS = 2000

test.describe.configure({ mode: 'serial' })

let bg: BackgroundBrowser
test.beforeEach(async () => {
  bg = await startBackgroundBrowser()
})
test.afterEach(async () => {
  await bg.close()
})

/** Writes `count` rows keyed `<label>-<n>` one by one (every 3rd as a 2-row transaction); each key's outcome. */
function writeRows(page: Page, label: string, count: number) {
  return page.evaluate(
    async ([label, count]) => {
      const outcomes: Array<{ key: string; ok: boolean; error?: string; ms: number }> = []
      for (let n = 0; n < count; n++) {
        const key = `${label}-${n}`
        const t0 = performance.now()
        try {
          if (n % 3 === 2) {
            await window.db.transaction().execute(async (trx: any) => {
              await trx
                .insertInto('t')
                .values({ k: `${key}` })
                .execute()
              await trx
                .insertInto('t')
                .values({ k: `${key}-2nd` })
                .execute()
            })
          } else {
            await window.db.insertInto('t').values({ k: key }).execute()
          }
          outcomes.push({ key, ok: true, ms: performance.now() - t0 })
        } catch (error: any) {
          outcomes.push({ key, ok: false, error: `${error.name}: ${error.message}`, ms: performance.now() - t0 })
        }
      }
      return outcomes
    },
    [label, count] as const,
  )
}

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
  const after = []
  for (const [tab, label] of [
    [a, 'a'],
    [b, 'b2'],
    [c, 'c2'],
  ] as const) {
    const rows = await writeRows(tab, label, 3)
    expect(rows.filter((o) => !o.ok)).toEqual([])
    after.push(...rows)
  }
  // Every acknowledged write is there once, those from before the freeze too; A's transaction
  // is not. The file is sound.
  const rows = await query<{ k: string; n: number }>(a, 'select k, count(*) as n from t group by k')
  const counts = new Map(rows.map((r) => [r.k, r.n]))
  const keys = (o: { key: string }) => (Number(o.key.split('-').at(-1)) % 3 === 2 ? [o.key, `${o.key}-2nd`] : [o.key])
  const acked = ['before-0', 'before-1', 'before-2', 'before-2-2nd', ...[...during, ...after].flatMap(keys)]
  expect(counts).toEqual(new Map(acked.map((k) => [k, 1])))
  expect(await query(a, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
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

/** The page's workers running the coordinator script (the Web Locks coordinator's host). */
const hostsCoordinator = (page: Page) => page.workers().some((w) => w.url().includes('coordinator'))

test.describe('the Web Locks coordinator, in a tab that is frozen', () => {
  const options = {
    coordinator: 'web-locks',
    hangTimeoutMs: HANG_TIMEOUT_MS,
    requestTimeoutMs: 30_000,
    hiddenHandoffMs: false,
  }

  test('and holds the database: another tab takes both over while it is frozen; resumed, it follows, each write once', async () => {
    test.setTimeout(90_000)
    const file = uniqueFilename('freeze-host')
    const a = await bg.openTab(file, options)
    const b = await bg.openTab(file, options)
    const c = await bg.openTab(file, options)
    await query(a, 'create table t (k text not null)')
    await writeRows(a, 'before', 3)
    expect((await status(a)).role).toBe('active')
    expect((await status(b)).coordinator).toBe('web-locks')
    expect([a, b, c].map(hostsCoordinator)).toEqual([true, false, false])

    await bg.freeze(a)
    const during = (await Promise.all([writeRows(b, 'b', 10), writeRows(c, 'c', 10)])).flat()
    console.log(
      `frozen host and active tab: first write answered after ${Math.round(Math.max(during[0]!.ms, during[10]!.ms))} ms`,
    )
    expect(during.filter((o) => !o.ok)).toEqual([])
    expect([(await status(b)).role, (await status(c)).role].sort()).toEqual(['active', 'follower'])
    expect([b, c].filter(hostsCoordinator)).toHaveLength(1)

    // Resumed: A's coordinator stops (its lock was stolen), A rejoins the new one and follows.
    await bg.resume(a)
    await expect.poll(() => hostsCoordinator(a)).toBe(false)
    await expect.poll(async () => (await status(a)).role).toBe('follower')
    const after = []
    for (const [tab, label] of [
      [a, 'a'],
      [b, 'b2'],
      [c, 'c2'],
    ] as const) {
      const rows = await writeRows(tab, label, 3)
      expect(rows.filter((o) => !o.ok)).toEqual([])
      after.push(...rows)
    }
    const rows = await query<{ k: string; n: number }>(b, 'select k, count(*) as n from t group by k')
    const keys = (o: { key: string }) => (Number(o.key.split('-').at(-1)) % 3 === 2 ? [o.key, `${o.key}-2nd`] : [o.key])
    const acked = ['before-0', 'before-1', 'before-2', 'before-2-2nd', ...[...during, ...after].flatMap(keys)]
    expect(new Map(rows.map((r) => [r.k, r.n]))).toEqual(new Map(acked.map((k) => [k, 1])))
    expect(await query(a, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
  })

  test('and follows: the other tabs are served across the take-over, and a tab opened meanwhile too', async () => {
    test.setTimeout(90_000)
    const file = uniqueFilename('freeze-host-follower')
    const a = await bg.openTab(file, options)
    const b = await bg.openTab(file, options)
    const c = await bg.openTab(file, options)
    await query(a, 'create table t (k text not null)')
    const bId = await b.evaluate(() => window.dialect.requestActive())
    expect(hostsCoordinator(a)).toBe(true)
    expect((await status(a)).role).toBe('follower')

    await bg.freeze(a)
    // Longer than twice the hang bound, after which an active worker that hears nothing from its
    // coordinator lets the database go.
    const written = await b.evaluate(async () => {
      const outcomes: string[] = []
      for (let n = 0; n < 14; n++) {
        await new Promise((r) => setTimeout(r, 500))
        await window.db
          .insertInto('t')
          .values({ k: `b-${n}` })
          .execute()
          .then(
            () => outcomes.push('ok'),
            (e: any) => outcomes.push(e.name),
          )
      }
      return outcomes
    })
    expect(written).toEqual(Array(14).fill('ok'))
    expect(await query(c, 'select count(*) as n from t')).toEqual([{ n: 14 }])
    const d = await bg.openTab(file, options)
    expect(await query(d, 'select count(*) as n from t')).toEqual([{ n: 14 }])
    // The active worker, which hears nothing from the coordinator either, may let the role go
    // before the take-over: it then goes to one of the tabs that are not frozen.
    expect([bId, await c.evaluate(() => window.dialect.status().then((s: any) => s.tabId))]).toContain(
      (await status(d)).activeTabId,
    )
    await bg.resume(a)
    await expect.poll(() => hostsCoordinator(a)).toBe(false)
    await query(a, "insert into t values ('a-after')")
    expect(await query(d, 'select count(*) as n from t')).toEqual([{ n: 15 }])
    expect(await query(a, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
  })
})
