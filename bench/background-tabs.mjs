// The `background` phase of the bench: what a user's browser does to tabs. It runs in a Chromium
// of its own (scripts/chromium.mjs), where a tab behind another is hidden, which pages Playwright
// launches never are: how many hand-offs N tab switches cause, with the default
// `hiddenHandoffMs`, when the user stays on each tab a while, and when they only glance at it;
// and how long after the active tab is frozen another tab's query is answered (the frozen tab
// keeps its files: the next active tab copies them), on a small and a larger database.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOwnChromium } from '../scripts/chromium.mjs'
import { pct, round } from './stats.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const roleOf = (page) => page.evaluate(() => window.bench.status().then((s) => s.role))
const handoffsSeen = (page) => page.evaluate(() => window.bench.events.filter((e) => e.type === 'active-changed').length)

async function until(check, timeoutMs) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) if (await check()) return true
  return false
}

/**
 * @param {{ base: string, stamp: string, switches: number, freezes: number, log: (line: string) => void }} options
 */
export async function backgroundPhase({ base, stamp, switches, freezes, log }) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'kysely-multitab-bench-background-'))
  const own = await startOwnChromium(userDataDir)
  const context = own.browser.contexts()[0]
  const open = async (filename, options) => {
    const page = await context.newPage()
    await page.goto(`${base}/mt/`)
    await page.waitForFunction(() => window.bench !== undefined)
    await page.evaluate(([f, o]) => window.bench.open(f, o), [filename, options])
    return page
  }
  try {
    const hiddenHandoffMs = 2000 // the default
    const switchRun = async (dwellMs) => {
      const filename = `background-switch-${dwellMs}-${stamp}.db`
      const tabs = []
      for (let t = 0; t < 3; t++) tabs.push(await open(filename, {}))
      // Settled: the oldest tab was elected, then the role moved to the tab in front.
      if (!(await until(async () => (await roleOf(tabs[2])) === 'active', 10_000)))
        throw new Error('the role did not reach the tab in front')
      const before = await handoffsSeen(tabs[0])
      let front = 2
      for (let s = 0; s < switches; s++) {
        front = (front + 1) % 3
        await tabs[front].bringToFront()
        await sleep(dwellMs)
      }
      // What a glance left running has its time to act, then the count.
      await sleep(hiddenHandoffMs + 1000)
      const handoffs = (await handoffsSeen(tabs[0])) - before
      for (const tab of tabs) await tab.close()
      return { switches, dwellMs, handoffs }
    }
    const stay = await switchRun(hiddenHandoffMs + 1500)
    const glance = await switchRun(300)

    // The role stays with the hidden tab (hiddenHandoffMs: false), as when it froze before the
    // grace ended; the default hangTimeoutMs. Each run: two fresh tabs, the first (active) hidden
    // behind the second and frozen; the time the second's insert takes.
    const hangTimeoutMs = 4000
    // With the Web Locks coordinator, the frozen tab (the only one when it opens) hosts it too.
    const freezeRun = async (label, rows, runs, coordinator = 'shared-worker') => {
      const filename = `background-freeze-${label}-${stamp}.db`
      const options = { hiddenHandoffMs: false, coordinator }
      const setup = await open(filename, options)
      await setup.evaluate(async (rows) => {
        const { db } = window.bench
        await db.schema.createTable('t').addColumn('k', 'text').addColumn('v', 'blob').execute()
        for (let done = 0; done < rows; done += 1000) {
          const batch = Array.from({ length: Math.min(1000, rows - done) }, () => ({
            k: 'fill',
            v: crypto.getRandomValues(new Uint8Array(1000)),
          }))
          await db.insertInto('t').values(batch).execute()
        }
      }, rows)
      await setup.close()
      const ms = []
      for (let r = 0; r < runs; r++) {
        const first = await open(filename, options)
        if (!(await until(async () => (await roleOf(first)) === 'active', 30_000)))
          throw new Error('the first tab was not elected')
        const second = await open(filename, options)
        const cdp = await context.newCDPSession(first)
        await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
        ms.push(
          await second.evaluate(async () => {
            const t0 = performance.now()
            await window.bench.db.insertInto('t').values({ k: 'after the freeze' }).execute()
            return performance.now() - t0
          }),
        )
        await cdp.send('Page.setWebLifecycleState', { state: 'active' })
        await first.close()
        await second.close()
      }
      return {
        label,
        rows,
        runs,
        coordinator,
        hangTimeoutMs,
        p50Ms: round(pct(ms, 50), 0),
        p95Ms: round(pct(ms, 95), 0),
        maxMs: round(Math.max(...ms), 0),
      }
    }
    const frozen = [
      await freezeRun('small', 100, freezes),
      await freezeRun('20MB', 20_000, Math.max(3, Math.round(freezes / 4))),
      await freezeRun('web-locks', 100, freezes, 'web-locks'),
    ]

    const result = { switches: [stay, glance], frozen }
    for (const s of result.switches)
      log(`background: ${s.switches} tab switches, ${s.dwellMs} ms on each -> ${s.handoffs} hand-offs`)
    for (const f of frozen)
      log(
        `background: active tab frozen (${f.rows} rows of 1 KB, ${f.coordinator}), another tab's insert answered after p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms (${f.runs} runs)`,
      )
    return result
  } finally {
    await own.kill()
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {})
  }
}
