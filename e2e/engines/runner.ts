// Runs the cross-engine scenarios (e2e/scenarios/) in Firefox or WebKit, each once per
// coordinator, one at a time, and prints `<engine>: N passed, M failed`. Every selected scenario
// either passes or fails: there is no skipping, and a run that selected nothing fails.
import { join } from 'node:path'
import {
  coordinators,
  hidingScenarios,
  scenarios,
  scenariosFor,
  type BrowserDriver,
  type Coordinator,
  type Scenario,
} from '../scenarios/index.js'
import { startE2eServer, type E2eServer } from './e2e-server.js'
import { FirefoxDriver } from './firefox-driver.js'
import { WebKitDriver } from './webkit-driver.js'

/** A browser the runner starts, restarts and stops; scenarios see it as a BrowserDriver. */
export interface ScenarioBrowser extends BrowserDriver {
  version(): Promise<string>
  /** Closes the tabs a scenario left open, so the next one starts with none. */
  closeTabs(): Promise<void>
  dispose(): Promise<void>
}

export type Engine = 'firefox' | 'webkit'

/** How each engine is driven, for the first line of the output. */
const DRIVEN_BY: Record<Engine, string> = {
  firefox: 'puppeteer-core, WebDriver BiDi',
  webkit: 'webkit-host.py, GObject bindings',
}

const SCENARIO_TIMEOUT_MS = 60_000

interface Run {
  readonly title: string
  readonly scenario: Scenario
  readonly coordinator: Coordinator
}

export interface RunnerOptions {
  readonly engine: Engine
  /** The repository's root (served, and where scripts/serve.mjs is). */
  readonly root: string
  /** Only the runs whose title contains this. */
  readonly grep?: string
  readonly port: number
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The driver as one run sees it: once the run is over (a timeout too), a scenario still running
 * can no longer open tabs in, or restart, the browser the next run uses.
 */
function forOneRun(driver: ScenarioBrowser): { view: BrowserDriver; end(): void } {
  let over = false
  const check = () => {
    if (over) throw new Error('this scenario run is over')
  }
  return {
    view: {
      engine: driver.engine,
      openTab: async (path) => (check(), driver.openTab(path)),
      restart: async () => (check(), driver.restart()),
    },
    end: () => void (over = true),
  }
}

/** Runs the selected scenarios; resolves to the process's exit code. */
export async function runScenarios(options: RunnerOptions): Promise<number> {
  const { engine } = options
  const runs: Run[] = coordinators
    .flatMap((coordinator) =>
      // WebKit's driver can hide a tab; Firefox's gives each page a window of its own, always shown.
      scenariosFor([...scenarios, ...(engine === 'webkit' ? hidingScenarios : [])], coordinator).map((scenario) => ({
        title: `[${coordinator}] ${scenario.name}`,
        scenario,
        coordinator,
      })),
    )
    .filter((run) => !options.grep || run.title.includes(options.grep))
  if (runs.length === 0) {
    console.error(`${engine}: no scenario matches "${options.grep}"`)
    return 1
  }

  const started = Date.now()
  let server: E2eServer | undefined
  let driver: ScenarioBrowser | undefined
  let passed = 0
  let failed = 0
  try {
    server = await startE2eServer(options.root, options.port)
    driver =
      engine === 'firefox'
        ? await FirefoxDriver.start(server.baseURL)
        : await WebKitDriver.start(server.baseURL, join(options.root, 'e2e/engines/webkit-host.py'))
    console.log(`${await driver.version()} (${DRIVEN_BY[engine]}) on ${server.baseURL}: ${runs.length} scenarios`)
    for (const run of runs) {
      const t0 = Date.now()
      const scoped = forOneRun(driver)
      try {
        await withTimeout(run.scenario.run(scoped.view, run.coordinator), SCENARIO_TIMEOUT_MS).finally(scoped.end)
        passed++
        console.log(`  ✓ ${run.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
        await driver.closeTabs()
      } catch (error) {
        failed++
        console.log(`  ✗ ${run.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
        console.log(
          `    ${String((error as Error)?.stack ?? error)
            .split('\n')
            .slice(0, 14)
            .join('\n    ')}`,
        )
        // A failed scenario may have left the browser in any state: the next starts a fresh one.
        await driver.restart()
      }
    }
  } catch (error) {
    console.error(`${engine}: could not run: ${(error as Error)?.message ?? error}`)
  } finally {
    await driver?.dispose()
    server?.stop()
  }
  const notRun = runs.length - passed - failed
  console.log(`${engine} run took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  console.log(`${engine}: ${passed} passed, ${failed + notRun} failed`)
  return failed + notRun === 0 ? 0 : 1
}
