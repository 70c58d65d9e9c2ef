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

test('a frozen active tab, in the middle of its own transaction: other tabs get typed errors in bounded time, never an internal one; once it resumes, all is served, each write once', async () => {
  test.setTimeout(90_000)
  const file = uniqueFilename('freeze')
  // The role stays with the hidden tab (as when every tab is hidden, or before the grace ends).
  const options = { hangTimeoutMs: HANG_TIMEOUT_MS, requestTimeoutMs: 3000, hiddenHandoffMs: false }
  const a = await bg.openTab(file, options)
  const b = await bg.openTab(file, options)
  const c = await bg.openTab(file, options)
  await query(a, 'create table t (k text not null)')
  expect((await status(a)).role).toBe('active')
  expect(await a.evaluate(() => document.visibilityState)).toBe('hidden')

  // A's own transaction has one row in, then A freezes between two of its statements.
  await a.evaluate(async () => {
    const w = window as any
    w.trx = await window.db.startTransaction().execute()
    await w.trx.insertInto('t').values({ k: 'a-in-trx' }).execute()
  })
  await bg.freeze(a)
  const during = await writeRows(c, 'c', 3)
  await bg.resume(a)
  // The frozen worker keeps the files (the browser admits one holder per file): each write
  // failed within its bound, saying so; none with HandoffError.
  console.log(`frozen active tab: ${during.map((o) => `${o.error?.split(':')[0]} after ${Math.round(o.ms)} ms`).join(', ')}`)
  for (const o of during) {
    expect(o.ok).toBe(false)
    expect(o.error).toMatch(/^(NoActiveTabError|WriteOutcomeUnknownError|ActiveTabLostError):/)
    expect(o.ms).toBeLessThan(3000 + HANG_TIMEOUT_MS + 1000)
  }

  // Resumed: A's transaction is over (its statements fail retryably), and every tab is served.
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
  const after = []
  for (const [tab, label] of [
    [a, 'a'],
    [b, 'b'],
    [c, 'c2'],
  ] as const) {
    const rows = await writeRows(tab, label, 3)
    expect(rows.filter((o) => !o.ok)).toEqual([])
    after.push(...rows)
  }
  // Every acknowledged write is there once; A's transaction is not; a write of unknown outcome
  // is there at most once. The file is sound.
  const rows = await query<{ k: string; n: number }>(b, 'select k, count(*) as n from t group by k')
  const counts = new Map(rows.map((r) => [r.k, r.n]))
  const keys = (o: { key: string }) => (Number(o.key.split('-').at(-1)) % 3 === 2 ? [o.key, `${o.key}-2nd`] : [o.key])
  for (const key of after.flatMap(keys)) expect(counts.get(key), key).toBe(1)
  for (const key of during.flatMap(keys)) expect(counts.get(key) ?? 0, key).toBeLessThanOrEqual(1)
  expect(counts.has('a-in-trx')).toBe(false)
  expect(counts.has('a-in-trx-late')).toBe(false)
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
