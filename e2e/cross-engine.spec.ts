// The cross-engine scenarios (e2e/scenarios/) in Chromium, through Playwright. Firefox runs the
// same ones through puppeteer-core: `npm run test:firefox` (e2e/firefox/).
import { chromium, test, type BrowserContext } from '@playwright/test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { coordinators, scenarios, scenariosFor, type BrowserDriver, type BrowserTab } from './scenarios/index.js'
import { chromiumArgs, chromiumExecutable } from './support/chromium.js'

/** A Chromium on a profile directory of its own, so a scenario can restart it and find its data. */
class ChromiumDriver implements BrowserDriver {
  readonly engine = 'chromium'
  readonly #userDataDir: string
  readonly #baseURL: string
  #context: BrowserContext | undefined

  private constructor(userDataDir: string, baseURL: string) {
    this.#userDataDir = userDataDir
    this.#baseURL = baseURL
  }

  static async start(baseURL: string): Promise<ChromiumDriver> {
    const driver = new ChromiumDriver(await mkdtemp(join(tmpdir(), 'kysely-multitab-xe-')), baseURL)
    await driver.restart()
    return driver
  }

  async openTab(path: string): Promise<BrowserTab> {
    const page = await this.#context!.newPage()
    page.on('pageerror', (error) => console.log(`[pageerror] ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' || process.env.E2E_VERBOSE) console.log(`[console.${message.type()}] ${message.text()}`)
    })
    await page.goto(path)
    return {
      evaluate: (fn, arg) => page.evaluate(fn as any, arg),
      close: () => page.close(),
    }
  }

  async restart(): Promise<void> {
    await this.#context?.close()
    this.#context = await chromium.launchPersistentContext(this.#userDataDir, {
      executablePath: chromiumExecutable(),
      args: chromiumArgs,
      baseURL: this.#baseURL,
    })
  }

  async dispose(): Promise<void> {
    await this.#context?.close()
    await rm(this.#userDataDir, { recursive: true, force: true })
  }
}

for (const coordinator of coordinators) {
  test.describe(`coordinator: ${coordinator}`, () => {
    for (const scenario of scenariosFor(scenarios, coordinator)) {
      test(scenario.name, async ({ baseURL }) => {
        const driver = await ChromiumDriver.start(baseURL!)
        try {
          await scenario.run(driver, coordinator)
        } finally {
          await driver.dispose()
        }
      })
    }
  })
}
