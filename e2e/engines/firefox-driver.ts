// Firefox for the cross-engine scenarios: puppeteer-core 24 over WebDriver BiDi (Playwright's
// BiDi Firefox does not run here; puppeteer-core 25 needs Node 22).
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import type { BrowserTab } from '../scenarios/index.js'
import type { ScenarioBrowser } from './runner.js'

/** FIREFOX_PATH if set, else Debian's firefox-esr (or a plain firefox); says how to get one. */
export function firefoxExecutable(): string {
  const fromEnv = process.env.FIREFOX_PATH
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`FIREFOX_PATH=${fromEnv} does not exist`)
    return fromEnv
  }
  const system = ['/usr/bin/firefox-esr', '/usr/bin/firefox'].find((p) => existsSync(p))
  if (system) return system
  throw new Error('No Firefox found. Install one (Debian/Ubuntu: `apt-get install -y firefox-esr`), or set FIREFOX_PATH.')
}

export class FirefoxDriver implements ScenarioBrowser {
  readonly engine = 'firefox'
  readonly #baseURL: string
  readonly #executablePath: string
  readonly #userDataDir: string
  #browser: Browser | undefined
  #pages = new Set<Page>()

  private constructor(baseURL: string, executablePath: string, userDataDir: string) {
    this.#baseURL = baseURL
    this.#executablePath = executablePath
    this.#userDataDir = userDataDir
  }

  /** A headless Firefox on a fresh profile of its own (so a restart finds the same OPFS data). */
  static async start(baseURL: string): Promise<FirefoxDriver> {
    const driver = new FirefoxDriver(baseURL, firefoxExecutable(), await mkdtemp(join(tmpdir(), 'kysely-multitab-firefox-')))
    await driver.restart()
    return driver
  }

  version(): Promise<string> {
    return this.#browser!.version()
  }

  async openTab(path: string): Promise<BrowserTab> {
    // A window per page: Firefox throttles the timers of background tabs, which would slow every
    // tab but the last one opened.
    const page = await this.#browser!.newPage({ type: 'window' })
    this.#pages.add(page)
    page.on('pageerror', (error) => console.log(`    [pageerror] ${(error as Error).message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' || process.env.E2E_VERBOSE) console.log(`    [console.${message.type()}] ${message.text()}`)
    })
    await page.goto(new URL(path, this.#baseURL).href)
    return {
      evaluate: (fn, arg) => page.evaluate(fn as any, arg) as any,
      close: async () => {
        this.#pages.delete(page)
        await page.close()
      },
    }
  }

  async restart(): Promise<void> {
    await this.#browser?.close()
    this.#pages.clear()
    this.#browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: this.#executablePath,
      userDataDir: this.#userDataDir,
      headless: true,
    })
  }

  async closeTabs(): Promise<void> {
    const pages = [...this.#pages]
    this.#pages.clear()
    await Promise.all(pages.map((page) => page.close().catch(() => {})))
  }

  async dispose(): Promise<void> {
    await this.#browser?.close().catch(() => {})
    await rm(this.#userDataDir, { recursive: true, force: true })
  }
}
