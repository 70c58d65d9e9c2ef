// The Web Locks coordinator (no SharedWorker) in a tab that is frozen for real: it keeps its
// locks, so the other tabs must find it silent and take it over (client/coordinator-watch.ts).
// A Chromium of the tests' own, as in background-tabs.spec.ts.
import { expect, test, type Page } from '@playwright/test'
import { backgroundBrowserPerTest } from './support/background.js'
import { writeAfterAndCheck, writeRows } from './support/frozen-writes.js'
import { query, status, uniqueFilename } from './support/tabs.js'

const HANG_TIMEOUT_MS = 2000

test.describe.configure({ mode: 'serial' })

const bg = backgroundBrowserPerTest()

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
    await writeAfterAndCheck([b, a, c], during)
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
