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
