import type { BrowserContext, Page } from '@playwright/test'
import { status } from './tabs.js'

/** The tab (of `tabs`) that holds the database now. */
export async function activeTab(tabs: Page[]): Promise<Page> {
  for (const tab of tabs) {
    if (tab.isClosed()) continue
    const s = await status(tab)
    if (s.role === 'active') return tab
  }
  throw new Error('no active tab')
}

/** Kills the page's renderer without running any unload handler (a crash). */
export async function crashTab(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page)
  const crashed = new Promise<void>((resolve) => page.once('crash', () => resolve()))
  // The session dies with the renderer, so the command itself never answers.
  void cdp.send('Page.crash').catch(() => {})
  await crashed
}

/**
 * Stalls the tab's own worker for about `ms` with a busy loop on its thread: a stuck worker, which
 * neither heartbeats nor handles a message. (A long SQLite statement is no stall: the worker
 * heartbeats from inside SQLite.) Gives the loop 150 ms to start.
 */
export async function stallTabWorker(page: Page, ms: number): Promise<void> {
  const worker = page.workers().find((w) => w.url().includes('tab-worker'))
  if (!worker) throw new Error('the tab has no tab worker')
  // Never answers if the tab terminates the worker meanwhile (its fence): not awaited.
  void worker
    .evaluate((busyMs) => {
      const end = performance.now() + busyMs
      while (performance.now() < end) {
        // stuck
      }
    }, ms)
    .catch(() => {})
  await new Promise((r) => setTimeout(r, 150))
}

/** Waits until `page` sees an active tab other than `formerTabId`, and returns its id. */
export async function waitForNewActive(page: Page, formerTabId: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await status(page)
    if (s.activeTabId && s.activeTabId !== formerTabId && s.role !== 'electing') return s.activeTabId
    if (Date.now() > deadline) throw new Error(`no new active tab after ${timeoutMs} ms (still ${s.activeTabId})`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** SQL that keeps SQLite busy counting to `n` (see rowsForMs), and answers with one row. */
export const countTo = (n: number) =>
  `with recursive c(x) as (select 1 union all select x + 1 from c where x < ${n}) select count(*) from c`

/**
 * How far countTo must count to keep `page`'s active worker busy for about `ms`. From the fastest
 * of three runs, after one untimed: a run slowed by a GC, a busy machine or wasm not yet optimised
 * would make the statement shorter than asked.
 */
export async function rowsForMs(page: Page, ms: number): Promise<number> {
  const msPerMillion = await page.evaluate(async (sqlText) => {
    await window.db.executeQuery(window.harness.CompiledQuery.raw(sqlText))
    let best = Infinity
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      await window.db.executeQuery(window.harness.CompiledQuery.raw(sqlText))
      best = Math.min(best, (performance.now() - t0) / 0.2)
    }
    return best
  }, countTo(200_000))
  return Math.round((ms / msPerMillion) * 1_000_000)
}
