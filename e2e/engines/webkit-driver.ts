// WebKitGTK for the cross-engine scenarios: Safari's engine, driven through webkit-host.py (the
// GObject bindings, over stdio). WebKitWebDriver's sessions are ephemeral, with no
// navigator.storage, so the host makes its own WebContext on a data directory that outlives it.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { BrowserTab } from '../scenarios/index.js'
import type { ScenarioBrowser } from './runner.js'

const PYTHON = '/usr/bin/python3'
const INSTALL_HINT = 'Debian/Ubuntu: `apt-get install -y gir1.2-webkit2-4.1 python3-gi xvfb`'
/** Time for the host to quit on its own before it is killed. */
const QUIT_GRACE_MS = 5_000

interface Answer {
  readonly id: number
  readonly error?: string
  readonly tab?: number
  readonly json?: string
  readonly version?: string
}

/** One webkit-host.py process: one browser, whose tabs share one origin's storage. */
class Host {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve(answer: Answer): void; reject(error: Error): void }>()
  readonly exited: Promise<void>
  #nextId = 1
  #gone: Error | undefined

  constructor(hostScript: string, dataDir: string, display: string) {
    this.#child = spawn(PYTHON, [hostScript, dataDir], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, DISPLAY: display },
    })
    // WebKit writes the pages' console there, a line each: errors are worth seeing.
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (process.env.E2E_VERBOSE || /CONSOLE (ERROR|ASSERT)|Traceback|Error:/.test(line)) console.log(`    [webkit] ${line}`)
      })
    }
    createInterface({ input: this.#child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
      const answer = JSON.parse(line) as Answer
      const waiter = this.#pending.get(answer.id)
      this.#pending.delete(answer.id)
      if (answer.error !== undefined) waiter?.reject(new Error(answer.error))
      else waiter?.resolve(answer)
    })
    // Written to after it died: the exit below rejects what waits; the write itself must not throw.
    this.#child.stdin!.on('error', () => {})
    this.exited = new Promise((resolve) => {
      const end = (why: string) => {
        this.#gone ??= new Error(`the WebKit host ${why}`)
        for (const waiter of this.#pending.values()) waiter.reject(this.#gone)
        this.#pending.clear()
        resolve()
      }
      this.#child.once('exit', (code, signal) => end(`exited (${signal ?? code})`))
      this.#child.once('error', (error) => end(`could not start: ${error.message} (${INSTALL_HINT})`))
    })
  }

  send(command: Record<string, unknown>): Promise<Answer> {
    if (this.#gone) return Promise.reject(this.#gone)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      if (process.env.E2E_VERBOSE) console.log(`    -> ${JSON.stringify(command).slice(0, 160)}`)
      this.#child.stdin!.write(JSON.stringify({ id, ...command }) + '\n')
    })
  }

  async quit(): Promise<void> {
    if (!this.#gone) this.#child.stdin!.write(JSON.stringify({ id: 0, cmd: 'quit' }) + '\n')
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), QUIT_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }
}

/** An X display for the views: $DISPLAY if set, else an Xvfb of our own. */
async function display(): Promise<{ name: string; stop(): void }> {
  if (process.env.DISPLAY) return { name: process.env.DISPLAY, stop() {} }
  if (!existsSync('/usr/bin/Xvfb')) throw new Error(`No X display and no Xvfb (${INSTALL_HINT})`)
  const xvfb = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  })
  const number = await new Promise<string>((resolve, reject) => {
    let said = ''
    ;(xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (chunk) => {
      said += chunk
      if (said.includes('\n')) resolve(said.trim())
    })
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)))
    xvfb.once('error', reject)
  })
  return { name: `:${number}`, stop: () => void xvfb.kill() }
}

export class WebKitDriver implements ScenarioBrowser {
  readonly engine = 'webkit'
  readonly #baseURL: string
  readonly #dataDir: string
  readonly #display: { name: string; stop(): void }
  readonly #hostScript = fileURLToPath(new URL('./webkit-host.py', import.meta.url))
  #host: Host | undefined
  #tabs = new Set<number>()

  private constructor(baseURL: string, dataDir: string, x: { name: string; stop(): void }, hostScript?: string) {
    this.#baseURL = baseURL
    this.#dataDir = dataDir
    this.#display = x
    if (hostScript) this.#hostScript = hostScript
  }

  /**
   * WebKitGTK on a fresh data directory of its own (a restart finds the same OPFS data).
   * `hostScript`: where webkit-host.py is, when this module was bundled elsewhere.
   */
  static async start(baseURL: string, hostScript?: string): Promise<WebKitDriver> {
    if (!existsSync(PYTHON)) throw new Error(`No ${PYTHON} (${INSTALL_HINT})`)
    const x = await display()
    const driver = new WebKitDriver(baseURL, await mkdtemp(join(tmpdir(), 'kysely-multitab-webkit-')), x, hostScript)
    await driver.restart()
    return driver
  }

  async version(): Promise<string> {
    return (await this.#host!.send({ cmd: 'version' })).version!
  }

  async openTab(path: string): Promise<BrowserTab> {
    const host = this.#host!
    const { tab } = await host.send({ cmd: 'open', url: new URL(path, this.#baseURL).href })
    this.#tabs.add(tab!)
    return {
      evaluate: async (fn, arg) => {
        const answer = await host.send({ cmd: 'eval', tab, fn: fn.toString(), arg: JSON.stringify(arg ?? null) })
        return (JSON.parse(answer.json!) as { v: any }).v
      },
      close: async () => {
        this.#tabs.delete(tab!)
        await host.send({ cmd: 'close', tab })
      },
      setHidden: async (hidden) => void (await host.send({ cmd: hidden ? 'hide' : 'show', tab })),
    }
  }

  async restart(): Promise<void> {
    await this.#host?.quit()
    this.#tabs.clear()
    this.#host = new Host(this.#hostScript, this.#dataDir, this.#display.name)
    await this.version() // it answers once GTK runs
  }

  async closeTabs(): Promise<void> {
    const tabs = [...this.#tabs]
    this.#tabs.clear()
    await Promise.all(tabs.map((tab) => this.#host!.send({ cmd: 'close', tab }).catch(() => {})))
  }

  async dispose(): Promise<void> {
    await this.#host?.quit()
    this.#display.stop()
    await rm(this.#dataDir, { recursive: true, force: true })
  }
}
