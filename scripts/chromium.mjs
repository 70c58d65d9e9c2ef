// The one place that says which Chromium the e2e tests, the Kysely suite, the consumer apps and the
// benchmarks drive, and with which flags.
import { spawn } from 'node:child_process'
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

/**
 * Starts Chromium with `userDataDir` and connects over CDP. Its pages are real tabs of one window:
 * a tab opened behind another is hidden (and may be frozen over CDP), which pages Playwright
 * launches never are; and the caller knows its process, so it can kill it as a crash would.
 * @returns {Promise<{ browser: import('@playwright/test').Browser, process: import('node:child_process').ChildProcess, kill(): Promise<void> }>}
 */
export async function startOwnChromium(userDataDir) {
  const executable = chromiumExecutable() ?? chromium.executablePath()
  const child = spawn(
    executable,
    [...chromiumArgs, '--headless', '--remote-debugging-port=0', `--user-data-dir=${userDataDir}`, 'about:blank'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const endpoint = await new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${text}`)), 20_000)
    child.stderr.on('data', (chunk) => {
      text += chunk.toString()
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Chromium exited (${code}): ${text}`))
    })
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
  // noDefaults: Playwright leaves the default context as it is (no emulation of its own).
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true })
  return {
    browser,
    process: child,
    kill: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}
