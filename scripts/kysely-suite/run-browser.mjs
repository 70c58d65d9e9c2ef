// Opens the suite's page in headless Chromium and forwards the page's events until mocha ends,
// the page crashes, or the time limit passes.
import { chromium } from '@playwright/test'
import { chromiumArgs as ARGS, chromiumExecutable as executablePath } from '../chromium.mjs'

/** Resolves with how the run ended: 'end', 'timeout', 'crash' or 'closed'. */
export async function runInBrowser({ url, timeoutMs, onEvent, onConsole }) {
  const browser = await chromium.launch({ executablePath: executablePath(), args: ARGS })
  try {
    const page = await browser.newPage()
    let finish
    const finished = new Promise((resolve) => (finish = resolve))
    await page.exposeFunction('__kyselySuiteReport', (json) => {
      const event = JSON.parse(json)
      onEvent(event)
      if (event.t === 'end') finish('end')
      if (event.t === 'probe-failed') finish('probe-failed')
    })
    page.on('pageerror', (error) => onConsole('pageerror', String(error.stack ?? error)))
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') onConsole(message.type(), message.text())
    })
    page.on('crash', () => finish('crash'))
    page.on('close', () => finish('closed'))
    const timer = setTimeout(() => finish('timeout'), timeoutMs)
    await page.goto(url)
    const how = await finished
    clearTimeout(timer)
    return how
  } finally {
    await browser.close()
  }
}
