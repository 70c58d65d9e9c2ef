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
 * The Chromium to test with: CHROMIUM_PATH if set, Playwright's own browser if installed, else the
 * system's (Debian's `chromium`). Says what to do when there is none.
 */
export function chromiumExecutable(): string | undefined {
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
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (existsSync(candidate)) return candidate
  }
  throw new Error(
    'No Chromium found for the e2e tests. Install one (Debian/Ubuntu: `apt-get install -y chromium`, ' +
      'or `npx playwright install chromium` where downloads work), or set CHROMIUM_PATH.',
  )
}
