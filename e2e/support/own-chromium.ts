import { spawn, type ChildProcess } from 'node:child_process'
import { chromium, type Browser } from '@playwright/test'
import { chromiumArgs, chromiumExecutable } from './chromium.js'

/**
 * A Chromium started by the test itself (not by Playwright), driven over CDP: the test knows its
 * process, so it can kill it outright, as a crash or power loss would.
 */
export interface OwnChromium {
  readonly browser: Browser
  readonly process: ChildProcess
  /** SIGKILL: no shutdown, no flush by the browser. */
  kill(): Promise<void>
}

/**
 * Starts Chromium with `userDataDir`. Its pages are real tabs of one window: a tab opened behind
 * another is hidden (and may be frozen over CDP), which pages Playwright launches never are.
 */
export async function startOwnChromium(userDataDir: string): Promise<OwnChromium> {
  const executable = chromiumExecutable() ?? chromium.executablePath()
  const child = spawn(
    executable,
    [...chromiumArgs, '--headless', '--remote-debugging-port=0', `--user-data-dir=${userDataDir}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const endpoint = await new Promise<string>((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${text}`)), 20_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.once('exit', (code) => reject(new Error(`Chromium exited (${code}): ${text}`)))
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
