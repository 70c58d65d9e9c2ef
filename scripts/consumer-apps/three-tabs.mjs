// The browser test of one consumer app: three tabs of one origin on the app's shared database.
// Write in one tab, read in another; close the active tab; the two survivors go on reading and
// writing, and see each other's changes through dialect.watch. Uses only what the app's page
// exposes (window.consumer, see app/main.ts), so it tests the bundled package as a user ships it.
import { launchChromium } from './chromium.mjs'

const STEP_TIMEOUT_MS = 30_000

class StepError extends Error {}

function expectEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new StepError(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  }
}

async function within(ms, what, promise) {
  let timer
  const timeout = new Promise(
    (_, reject) => (timer = setTimeout(() => reject(new StepError(`${what}: no answer in ${ms} ms`)), ms)),
  )
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs the test against `url`. Resolves to { ok, steps, error?, pageErrors, consoleErrors, requests }
 * (`requests`: what the pages and their workers fetched, when Playwright sees it). Never throws.
 */
export async function threeTabTest(url) {
  const steps = []
  const pageErrors = []
  const consoleErrors = []
  const requests = []
  let browser
  try {
    browser = await launchChromium()
    const context = await browser.newContext()
    const tabs = {}

    const step = async (name, fn) => {
      const started = Date.now()
      try {
        const result = await within(STEP_TIMEOUT_MS, name, fn())
        steps.push({ name, ok: true, ms: Date.now() - started })
        return result
      } catch (error) {
        steps.push({ name, ok: false, ms: Date.now() - started })
        throw error
      }
    }
    const call = (tab, method, ...args) => tabs[tab].evaluate(([m, a]) => window.consumer[m](...a), [method, args])

    const open = async (name) => {
      const page = await context.newPage()
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`))
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${name}: ${m.text()}`))
      page.on('response', (r) =>
        requests.push({ path: new URL(r.url()).pathname, status: r.status(), type: r.headers()['content-type'] ?? '' }),
      )
      page.on('requestfailed', (r) => requests.push({ path: new URL(r.url()).pathname, status: 'failed', type: '' }))
      await page.goto(url)
      await page.waitForFunction(() => window.consumer !== undefined, undefined, { timeout: 15_000 })
      tabs[name] = page
      // Every tab migrates the schema at start-up.
      await page.evaluate(() => window.consumer.ready)
    }
    const roles = async (names) => Object.fromEntries(await Promise.all(names.map(async (n) => [n, await call(n, 'role')])))
    const oneActive = (r) => {
      const active = Object.keys(r).filter((n) => r[n] === 'active')
      if (active.length !== 1) throw new StepError(`expected one active tab, roles are ${JSON.stringify(r)}`)
      return active[0]
    }

    await step('open tabs A, B, C (each runs the migration)', async () => {
      for (const name of ['A', 'B', 'C']) await open(name)
    })
    await step('write in A, read in B', async () => {
      await call('A', 'insert', 'written in A')
      expectEqual(await call('B', 'titles'), ['written in A'], 'titles read in B')
    })
    await step('write in C, read in A', async () => {
      await call('C', 'insert', 'written in C')
      expectEqual(await call('A', 'titles'), ['written in A', 'written in C'], 'titles read in A')
    })
    await step('a duplicate is a SqliteError with its code', async () => {
      expectEqual(await call('B', 'duplicateCode', 'written in A'), 'SQLITE_CONSTRAINT_UNIQUE (19)', 'error caught in B')
    })
    const active = await step('exactly one tab is active, all agree on it', async () => {
      const r = await roles(['A', 'B', 'C'])
      const name = oneActive(r)
      const statuses = await Promise.all(['A', 'B', 'C'].map((n) => call(n, 'status')))
      const ids = new Set(statuses.map((s) => s.activeTabId))
      if (ids.size !== 1) throw new StepError(`tabs disagree on the active tab: ${[...ids].join(', ')}`)
      return name
    })
    const survivors = ['A', 'B', 'C'].filter((n) => n !== active)
    await step(`close the active tab (${active})`, async () => {
      await tabs[active].close()
      delete tabs[active]
    })
    await step(`write in ${survivors.join(' and ')} after the close`, async () => {
      for (const n of survivors) await call(n, 'insert', `written in ${n} after the close`)
    })
    const expected = ['written in A', 'written in C', ...survivors.map((n) => `written in ${n} after the close`)]
    await step(`read everything in ${survivors.join(' and ')}`, async () => {
      for (const n of survivors) expectEqual(await call(n, 'titles'), expected, `titles read in ${n}`)
    })
    await step('one survivor is active now', async () => {
      oneActive(await roles(survivors))
    })
    await step('dialect.watch saw every change in each survivor', async () => {
      for (const n of survivors) {
        await tabs[n]
          .waitForFunction((want) => JSON.stringify(window.consumer.watched()) === want, JSON.stringify(expected), {
            timeout: 10_000,
          })
          .catch(async () => {
            throw new StepError(`watch in ${n} shows ${JSON.stringify(await call(n, 'watched'))}`)
          })
      }
    })
    if (pageErrors.length) throw new StepError(`uncaught errors in the pages: ${pageErrors.join('; ')}`)
    return { ok: true, steps, pageErrors, consoleErrors, requests }
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      steps,
      pageErrors,
      consoleErrors,
      requests,
    }
  } finally {
    await browser?.close().catch(() => {})
  }
}
