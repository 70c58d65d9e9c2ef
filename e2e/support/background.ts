import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type BrowserContext, type Page } from '@playwright/test'
import { startOwnChromium, type OwnChromium } from './own-chromium.js'
import { openTab } from './tabs.js'

/**
 * A Chromium whose tabs behave as a user's do: the newest tab is in front and visible, the others
 * are hidden, and a hidden tab can be frozen for real (its timers and workers stop), which
 * Playwright's own pages never are.
 */
export interface BackgroundBrowser {
  readonly context: BrowserContext
  /** Opens the harness in a new tab in front (the previous front tab is hidden) on `file`. */
  openTab(file: string, options?: Record<string, unknown>): Promise<Page>
  /** Freezes a hidden tab: its page and its workers stop until `resume`. */
  freeze(page: Page): Promise<void>
  resume(page: Page): Promise<void>
  close(): Promise<void>
}

export async function startBackgroundBrowser(): Promise<BackgroundBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'kysely-multitab-background-'))
  const own: OwnChromium = await startOwnChromium(userDataDir)
  const context = own.browser.contexts()[0]!
  const sessions = new Map<Page, Awaited<ReturnType<BrowserContext['newCDPSession']>>>()
  const session = async (page: Page) => {
    let cdp = sessions.get(page)
    if (!cdp) sessions.set(page, (cdp = await context.newCDPSession(page)))
    return cdp
  }
  return {
    context,
    async openTab(file, options = {}) {
      const page = await openTab(context, file, options)
      // The dialect starts with its first query: the tab joins now, while it is in front.
      await page.evaluate(() => window.db.selectNoFrom((eb: any) => eb.val(1).as('x')).execute())
      return page
    },
    async freeze(page) {
      if ((await page.evaluate(() => document.visibilityState)) !== 'hidden') throw new Error('only a hidden tab can be frozen')
      await (await session(page)).send('Page.setWebLifecycleState', { state: 'frozen' })
    },
    async resume(page) {
      await (await session(page)).send('Page.setWebLifecycleState', { state: 'active' })
    },
    async close() {
      await own.kill()
      await rm(userDataDir, { recursive: true, force: true }).catch(() => {})
    },
  }
}

/**
 * A background browser for each test of the calling spec file: started before each test, killed
 * after it. The object returned acts on the current test's browser.
 */
export function backgroundBrowserPerTest(): BackgroundBrowser {
  let current: BackgroundBrowser | undefined
  test.beforeEach(async () => {
    current = await startBackgroundBrowser()
  })
  test.afterEach(async () => {
    await current?.close()
    current = undefined
  })
  const now = () => {
    if (!current) throw new Error('no background browser outside a test')
    return current
  }
  return {
    get context() {
      return now().context
    },
    openTab: (file, options) => now().openTab(file, options),
    freeze: (page) => now().freeze(page),
    resume: (page) => now().resume(page),
    close: () => now().close(),
  }
}
