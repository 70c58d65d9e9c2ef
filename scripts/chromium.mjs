// The one place that says which Chromium the e2e tests, the Kysely suite, the consumer apps and the
// benchmarks drive, and with which flags.
import { existsSync } from 'node:fs'
import { chromium } from '@playwright/test'

/** Flags for Chromium on a machine with no network but loopback. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * CHROMIUM_PATH if set, else Playwright's own browser if installed (undefined: Playwright finds
 * it), else the system's (Debian's `chromium`). Says what to do when there is none.
 */
export function chromiumExecutable() {
  const fromEnv = process.env.CHROMIUM_PATH
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`)
    return fromEnv
  }
  try {
    if (existsSync(chromium.executablePath())) return undefined
  } catch {
    // Playwright's own browser is not installed; look for the system's.
  }
  const system = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p))
  if (system) return system
  throw new Error(
    'No Chromium found. Install one (Debian/Ubuntu: `apt-get install -y chromium`, or ' +
      '`npx playwright install chromium` where downloads work), or set CHROMIUM_PATH.',
  )
}
