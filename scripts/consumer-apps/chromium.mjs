// Which Chromium the browser test drives, and its flags (as e2e/support/chromium.ts): CHROMIUM_PATH,
// else Playwright's own browser if installed, else the system's.
import { existsSync } from 'node:fs'
import { chromium } from '@playwright/test'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function chromiumExecutable() {
  if (process.env.CHROMIUM_PATH) {
    if (!existsSync(process.env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`)
    return process.env.CHROMIUM_PATH
  }
  try {
    if (existsSync(chromium.executablePath())) return undefined
  } catch {
    // Playwright's own browser is not installed.
  }
  const system = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync)
  if (!system) throw new Error('no Chromium found: install one (apt-get install -y chromium) or set CHROMIUM_PATH')
  return system
}

export function launchChromium() {
  return chromium.launch({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS })
}
