// What a scenario does in a tab, in the words of the app: open the shared database there, query
// it, read the dialect's status. Written against the driver seam so it runs in every engine; the
// functions sent to the page use only the harness (e2e/pages/harness.js) and their argument.
import assert from 'node:assert/strict'
import type { BrowserDriver, BrowserTab } from './driver.js'
import type { Coordinator } from './scenario.js'

export interface TabStatus {
  tabId: string
  role: 'active' | 'follower' | 'electing' | 'closed'
  activeTabId?: string
  tabs: string[]
  coordinator: string
  epoch: number
  /** The storage the active worker opened. */
  storage?: string
  worker: { active: boolean; openCount: number }
}

export interface ErrorDescription {
  name?: string
  message?: string
  code?: string
  resultCode?: number
  retryable?: boolean
  isMultiTabError: boolean
  stack?: string
}

export type QueryOutcome = { ok: true; rows: Record<string, unknown>[] } | { ok: false; error: ErrorDescription }

/** A unique database name, so scenarios never share data (the profile may be reused). */
export function uniqueFilename(prefix = 'xe'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.db`
}

/**
 * Opens a tab on the harness and opens the database there as window.db, with this coordinator
 * and `options`; `prepare` runs in the page first.
 */
export async function openDatabase(
  driver: BrowserDriver,
  filename: string,
  coordinator: Coordinator,
  options: Record<string, unknown> = {},
  prepare?: () => void,
): Promise<BrowserTab> {
  const tab = await driver.openTab('/e2e/pages/harness.html')
  await tab.evaluate(
    () =>
      window.harness !== undefined ||
      new Promise<boolean>((resolve) => addEventListener('harness-ready', () => resolve(true), { once: true })),
  )
  if (prepare) await tab.evaluate(prepare)
  // The construction may throw (an option this build rejects): that fails the scenario here.
  await tab.evaluate(({ filename, options }) => void window.harness.open(filename, options), {
    filename,
    options: { ...options, coordinator },
  })
  return tab
}

/** Opens `count` tabs on the database, one after the other (the first opened is elected first). */
export async function openDatabaseTabs(
  driver: BrowserDriver,
  filename: string,
  coordinator: Coordinator,
  count: number,
): Promise<BrowserTab[]> {
  const tabs: BrowserTab[] = []
  for (let i = 0; i < count; i++) tabs.push(await openDatabase(driver, filename, coordinator))
  return tabs
}

/** Runs raw SQL in the tab: its rows, or its error as plain data. */
export function tryQuery(tab: BrowserTab, sqlText: string, params: unknown[] = []): Promise<QueryOutcome> {
  return tab.evaluate(
    async ({ sqlText, params }) => {
      try {
        const result = await window.db.executeQuery(window.harness.CompiledQuery.raw(sqlText, params))
        return { ok: true as const, rows: result.rows }
      } catch (error) {
        return { ok: false as const, error: window.harness.describe(error) }
      }
    },
    { sqlText, params },
  )
}

export async function query<T = Record<string, unknown>>(tab: BrowserTab, sqlText: string, params: unknown[] = []): Promise<T[]> {
  const outcome = await tryQuery(tab, sqlText, params)
  if (!outcome.ok) throw new Error(`${sqlText}: ${outcome.error.name} ${outcome.error.code ?? ''} ${outcome.error.message}`)
  return outcome.rows as T[]
}

export function status(tab: BrowserTab): Promise<TabStatus> {
  return tab.evaluate(() => window.dialect.status())
}

/** Every tab runs the coordinator the scenario asked for (not a silent fallback to another). */
export async function assertCoordinator(tabs: BrowserTab[], coordinator: Coordinator): Promise<void> {
  for (const tab of tabs) assert.equal((await status(tab)).coordinator, coordinator, 'status().coordinator')
}

/** The tabs split by role; exactly one must be active. */
export async function byRole(tabs: BrowserTab[]): Promise<{ active: BrowserTab; followers: BrowserTab[] }> {
  const roles = await Promise.all(tabs.map(async (tab) => (await status(tab)).role))
  const active = tabs.filter((_, i) => roles[i] === 'active')
  assert.equal(active.length, 1, `exactly one active tab (roles: ${roles.join(', ')})`)
  return { active: active[0]!, followers: tabs.filter((_, i) => roles[i] !== 'active') }
}

/**
 * `count` tabs on a fresh database with one table made by `ddl`, every tab joined and routed (each
 * has run a query): the tabs, split by role, and the active tab's id.
 */
export async function openWithTable(driver: BrowserDriver, coordinator: Coordinator, count: number, ddl: string) {
  const tabs = await openDatabaseTabs(driver, uniqueFilename(), coordinator, count)
  await query(tabs[count - 1]!, ddl)
  for (const tab of tabs) await query(tab, 'select 1')
  const { active, followers } = await byRole(tabs)
  return { tabs, active, followers, activeTabId: (await status(active)).tabId }
}

/** Polls `check` in the tab until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil<A>(
  tab: BrowserTab,
  what: string,
  check: (arg: A) => boolean | Promise<boolean>,
  arg?: A,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await tab.evaluate(check, arg))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Waits until `tab` sees an elected active tab other than `formerTabId`, and returns its id. */
export async function waitForNewActive(tab: BrowserTab, formerTabId: string): Promise<string> {
  await waitUntil(
    tab,
    `an active tab other than ${formerTabId}`,
    async (former) => {
      const s = await window.dialect.status()
      return s.activeTabId !== undefined && s.activeTabId !== former && s.role !== 'electing'
    },
    formerTabId,
  )
  return (await status(tab)).activeTabId!
}
