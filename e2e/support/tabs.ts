import { test, type BrowserContext, type Page } from '@playwright/test'

declare global {
  interface Window {
    harness: any
    db: any
    dialect: any
    chaos: {
      outcomes: Array<{ key: string; kind: string; outcome: string }>
      running: boolean
      run(label: string, count: number): Promise<void>
    }
    events: Array<{ type: string; at: number; reason?: string; activeTabId?: string; handoffMs?: number; isThisTab?: boolean }>
  }
}

/** A unique database name per test, so tests never see each other's data. */
export function uniqueFilename(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.db`
}

/**
 * Dialect options of the Playwright project (playwright.config.ts): the same specs run once per
 * coordinator kind.
 */
export function projectDialectOptions(): Record<string, unknown> {
  return (test.info().project.metadata?.dialectOptions as Record<string, unknown> | undefined) ?? {}
}

/**
 * The harness page on the Kysely line of the Playwright project (playwright.config.ts): the
 * installed (newest) one, or `0.28`.
 */
export function harnessPath(): string {
  const line = test.info().project.metadata?.kysely as string | undefined
  return line ? `/e2e/pages/harness.html?kysely=${line}` : '/e2e/pages/harness.html'
}

/** Opens a new tab (page) of the context on the harness and opens the database there as window.db. */
export async function openTab(
  context: BrowserContext,
  filename: string,
  options: Record<string, unknown> = {},
  /** Runs before the page loads, e.g. an init script that removes a browser API. */
  before?: (page: Page) => Promise<void>,
): Promise<Page> {
  const page = await context.newPage()
  await before?.(page)
  page.on('pageerror', (error) => console.log(`[pageerror] ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' || process.env.E2E_VERBOSE) console.log(`[console.${message.type()}] ${message.text()}`)
  })
  // Absolute: a context of a Chromium the test started itself has no baseURL.
  await page.goto(new URL(harnessPath(), test.info().project.use.baseURL).href)
  await page.waitForFunction(() => window.harness !== undefined)
  const merged = { ...projectDialectOptions(), ...options }
  await page.evaluate(([f, o]) => void window.harness.open(f, o), [filename, merged] as const)
  return page
}

/** This tab's status, as the app sees it. */
export function status(page: Page): Promise<{
  tabId: string
  role: string
  activeTabId?: string
  tabs: string[]
  epoch: number
  coordinator: string
  storage: string
  worker: { active: boolean; openCount: number; attachedTabs: number; subscribers: number }
}> {
  return page.evaluate(() => window.dialect.status())
}

/** Hand-offs this tab has seen (`metrics().handoffs.count`). */
export function handoffCount(page: Page): Promise<number> {
  return page.evaluate(() => window.dialect.metrics().handoffs.count as number)
}

/** Runs a query in the tab and returns its rows (or the error, described). */
export function tryQuery(page: Page, sqlText: string, params: unknown[] = []) {
  return page.evaluate(
    async ([s, p]) => {
      try {
        const result = await window.db.executeQuery(window.harness.CompiledQuery.raw(s, p))
        return { ok: true as const, rows: result.rows, numAffectedRows: result.numAffectedRows?.toString() }
      } catch (error) {
        return { ok: false as const, error: window.harness.describe(error) }
      }
    },
    [sqlText, params] as const,
  )
}

export async function query<T = Record<string, unknown>>(page: Page, sqlText: string, params: unknown[] = []): Promise<T[]> {
  const result = await tryQuery(page, sqlText, params)
  if (!result.ok) throw new Error(`query failed: ${JSON.stringify(result.error)}`)
  return result.rows as T[]
}
