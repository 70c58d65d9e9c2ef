// Background tabs as browsers treat them: hidden behind other tabs, and frozen (timers and workers
// stopped, files and locks still held). Playwright keeps the pages it launches visible, so these
// tests drive a Chromium of their own over CDP (support/background.ts), where they are real.
import { expect, test, type Page } from '@playwright/test'
import { startBackgroundBrowser, type BackgroundBrowser } from './support/background.js'
import { query, status, uniqueFilename } from './support/tabs.js'

const HANG_TIMEOUT_MS = 2000

test.describe.configure({ mode: 'serial' })

let bg: BackgroundBrowser
test.beforeEach(async ({ baseURL }) => {
  bg = await startBackgroundBrowser(baseURL!)
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
              await trx.insertInto('t').values({ k: `${key}` }).execute()
              await trx.insertInto('t').values({ k: `${key}-2nd` }).execute()
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

test('a frozen active tab, in the middle of its own transaction, is replaced; it writes nothing after, and serves again once resumed', async () => {
  test.setTimeout(90_000)
  const file = uniqueFilename('freeze')
  // Every tab's worker tells each change it makes to a file (see workers/spy-writes.js). The role
  // stays with the hidden tab (as where it is elected before the user switches).
  const options = { hangTimeoutMs: HANG_TIMEOUT_MS, hiddenHandoffMs: false, workerUrl: '/e2e/pages/workers/spy-writes.js' }
  const a = await bg.openTab(file, options)
  const b = await bg.openTab(file, options)
  const c = await bg.openTab(file, options)
  await query(a, 'create table t (k text not null)')
  const frozenTab = (await status(a)).tabId
  expect((await status(a)).role).toBe('active')
  expect(await a.evaluate(() => document.visibilityState)).toBe('hidden')

  // A's own transaction has one row in, then A freezes between two of its statements.
  await a.evaluate(async () => {
    const w = window as any
    w.trx = await window.db.startTransaction().execute()
    await w.trx.insertInto('t').values({ k: 'a-in-trx' }).execute()
  })
  await bg.freeze(a)
  const [fromB, fromC] = await Promise.all([writeRows(b, 'b', 12), writeRows(c, 'c', 12)])
  expect((await status(c)).activeTabId).not.toBe(frozenTab)

  // Resumed while no tab sends anything: the files change no more. The frozen worker, had it not
  // been fenced, would now roll its transaction back and truncate the journal the new holder uses.
  await b.evaluate(() => {
    const w = window as any
    w.writes = []
    new BroadcastChannel('spy-writes').onmessage = (event) => w.writes.push(event.data)
  })
  await bg.resume(a)
  // Polled from here: waitForFunction polls on animation frames, which a hidden tab never has.
  await expect.poll(() => a.evaluate(() => window.dialect.status().then((s: any) => `${s.role} of ${s.activeTabId}`))).toMatch(/^follower of /)
  expect((await status(a)).activeTabId).not.toBe(frozenTab)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  expect(await b.evaluate(() => (window as any).writes)).toEqual([])

  // The first write of each tab waited for the replacement; every write was served.
  const all = [...fromB, ...fromC]
  console.log(
    `frozen active tab: first writes answered after ${Math.round(fromB[0]!.ms)} and ${Math.round(fromC[0]!.ms)} ms ` +
      `(hangTimeoutMs ${HANG_TIMEOUT_MS}); the rest in at most ${Math.round(Math.max(...[...fromB.slice(1), ...fromC.slice(1)].map((o) => o.ms)))} ms`,
  )
  expect(all.filter((o) => !o.ok)).toEqual([])

  // Resumed: A's transaction is over (its statements fail retryably), and A serves again.
  const late = await a.evaluate(async () => {
    const w = window as any
    const next = await w.trx.insertInto('t').values({ k: 'a-in-trx-late' }).execute().then(
      () => 'applied',
      (e: any) => ({ name: e.name, retryable: e.retryable }),
    )
    await w.trx.rollback().execute().catch(() => {})
    return next
  })
  expect(late).toEqual({ name: 'ActiveTabLostError', retryable: true })
  for (const [tab, label] of [[a, 'a'], [b, 'b2'], [c, 'c2']] as const) {
    const after = await writeRows(tab, label, 3)
    expect(after.filter((o) => !o.ok)).toEqual([])
    all.push(...after)
  }

  // Every acknowledged write is there once, and nothing else: not A's transaction. The file is sound.
  const rows = await query<{ k: string; n: number }>(b, 'select k, count(*) as n from t group by k')
  const expected = all.flatMap((o) => (Number(o.key.split('-').at(-1)) % 3 === 2 ? [o.key, `${o.key}-2nd`] : [o.key]))
  expect(new Map(rows.map((r) => [r.k, r.n]))).toEqual(new Map(expected.map((k) => [k, 1])))
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
          await window.db.insertInto('t').values({ k: `${label}-${n}` }).execute()
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
  const handoffsBefore = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.events.filter((e) => e.type === 'active-changed').length)))

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
  expect(await b.evaluate(() => window.events.filter((e) => e.type === 'active-changed').map((e) => e.reason))).toEqual(['elected', 'hidden'])

  const never = uniqueFilename('never')
  const c = await bg.openTab(never, { hiddenHandoffMs: false })
  const d = await bg.openTab(never, { hiddenHandoffMs: false })
  expect(await roleOf(c)).toBe('active')
  expect(await c.evaluate(() => document.visibilityState)).toBe('hidden')
  await new Promise((resolve) => setTimeout(resolve, 2500))
  expect(await roleOf(c)).toBe('active')
  expect(await roleOf(d)).toBe('follower')
})

test('where handles cannot be shared (as in Firefox and Safari), queries fail in bounded time during a freeze, never with an internal error, and all is well after', async () => {
  test.setTimeout(90_000)
  const file = uniqueFilename('exclusive')
  const options = { hangTimeoutMs: 1000, requestTimeoutMs: 3000, hiddenHandoffMs: false, workerUrl: '/e2e/pages/workers/exclusive-handles.js' }
  const a = await bg.openTab(file, options)
  const b = await bg.openTab(file, options)
  const c = await bg.openTab(file, options)
  await query(a, 'create table t (k text not null)')
  expect((await status(a)).role).toBe('active')
  await bg.freeze(a)
  const during = await writeRows(c, 'c', 3)
  await bg.resume(a)
  // Each failed within its bound, saying the database had no server; none with HandoffError.
  console.log(`frozen active tab, handles not shared: ${during.map((o) => `${o.error?.split(':')[0]} after ${Math.round(o.ms)} ms`).join(', ')}`)
  for (const o of during) {
    expect(o.ok).toBe(false)
    expect(o.error).toMatch(/^(NoActiveTabError|WriteOutcomeUnknownError|ActiveTabLostError):/)
    expect(o.ms).toBeLessThan(3000 + 1000 + 1000)
  }
  // Resumed, the frozen tab lets the files go; every tab is served again.
  for (const [tab, label] of [[a, 'a'], [b, 'b'], [c, 'c2']] as const) {
    const after = await writeRows(tab, label, 3)
    expect(after.filter((o) => !o.ok)).toEqual([])
  }
  expect(await query(b, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
})
