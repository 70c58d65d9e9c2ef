// The `background` phase of the bench: what a user's browser does to tabs. It runs in a Chromium
// of its own (scripts/chromium.mjs), where a tab behind another is hidden, which pages Playwright
// launches never are: how many hand-offs N tab switches cause, with the default
// `hiddenHandoffMs`, when the user stays on each tab a while, and when they only glance at it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOwnChromium } from '../scripts/chromium.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const roleOf = (page) => page.evaluate(() => window.bench.status().then((s) => s.role))
const handoffsSeen = (page) => page.evaluate(() => window.bench.events.filter((e) => e.type === 'active-changed').length)

async function until(check, timeoutMs) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) if (await check()) return true
  return false
}

/**
 * @param {{ base: string, stamp: string, switches: number, log: (line: string) => void }} options
 */
export async function backgroundPhase({ base, stamp, switches, log }) {
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
    const result = { switches: [stay, glance] }
    for (const s of result.switches)
      log(`background: ${s.switches} tab switches, ${s.dwellMs} ms on each -> ${s.handoffs} hand-offs`)
    return result
  } finally {
    await own.kill()
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {})
  }
}
