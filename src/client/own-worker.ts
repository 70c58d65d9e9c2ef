/**
 * This tab's own DedicatedWorker: the one that holds the database when this tab is the active
 * one. The tab starts it, hands its line to the coordinator, replaces it when the coordinator
 * fences it (terminating a hung worker is what frees the OPFS files), and talks to it directly
 * on the Worker channel: its status, its close, and this tab's own statements while it is active
 * (see own-worker-line.ts). The worker is started, and its close bounded, through the env.
 */
import { DatabaseClosedError, deserializeError } from '../protocol/errors.js'
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { InitMessage, OwnLineOpen, OwnWorkerReply, WorkerStatus } from '../protocol/own-worker-messages.js'
import type { WorkerReply } from '../protocol/statement-messages.js'
import type { DatabaseNames } from '../protocol/names.js'
import type { ResolvedConfig } from '../dialect/options.js'
import { newLine, transferOf, type LineRef } from '../protocol/line.js'
import type { LinkEnv, TabWorkerEnd } from './link-env.js'
import { OwnWorkerLine } from './own-worker-line.js'

/** What a tab without a running worker reports. */
export const NO_WORKER: WorkerStatus = { active: false, openCount: 0, attachedTabs: 0, subscribers: 0 }

/** What of the browser the tab's own worker is started and bounded with. */
export type OwnWorkerEnv = Pick<LinkEnv, 'startTabWorker' | 'setTimeout' | 'clearTimeout'>

export class OwnWorker {
  readonly #config: Readonly<ResolvedConfig>
  readonly #names: DatabaseNames
  /** The worker failed to load or start (its `error` event's message). */
  readonly #onFailed: (message: string) => void
  readonly #env: OwnWorkerEnv
  #worker: TabWorkerEnd | undefined
  /** Terminated for good, or failed to load or start: it answers nothing any more. */
  #gone = false
  #nextCall = 1
  readonly #calls = new Map<number, (reply: OwnWorkerReply) => void>()
  /** The route to this worker, while this tab is the active one. */
  #ownLine: OwnWorkerLine | undefined
  #ownLineSerial = 0

  constructor(config: Readonly<ResolvedConfig>, names: DatabaseNames, onFailed: (message: string) => void, env: OwnWorkerEnv) {
    this.#config = config
    this.#names = names
    this.#onFailed = onFailed
    this.#env = env
  }

  /** A worker runs (started, not ended). */
  get started(): boolean {
    return this.#worker !== undefined
  }

  /** Ended for good: terminated, or failed to load or start. */
  get gone(): boolean {
    return this.#gone
  }

  /**
   * Starts the worker (ending the one before, if any); returns the end of its line to the
   * coordinator, a port when `ports` (see protocol/line.ts).
   */
  start(tabId: string, ports: boolean): LineRef {
    if (this.#worker) {
      this.#worker.terminate()
      this.#settleCalls()
    }
    const worker = this.#env.startTabWorker(this.#config.workerUrl, `kysely-multitab ${this.#config.filename}`)
    this.#worker = worker
    worker.onmessage = (event) => {
      const data = event.data as OwnWorkerReply | OwnLineOpen | WorkerReply
      if (data?.t === 'reply') this.#calls.get(data.id)?.(data)
      else if (worker !== this.#worker) return
      else if (data?.t === 'own-line-open') this.#ownLine?.opened(data.serial)
      else this.#ownLine?.deliver(event) // the own line's traffic (see own-worker-line.ts)
    }
    worker.onerror = (event) => {
      event.preventDefault?.()
      // Failed, it may still hold the files (and the role lock) until its own timeout: free them now.
      worker.terminate()
      if (worker === this.#worker) this.#ended()
      this.#onFailed(event.message || 'could not load')
    }
    const [workerEnd, coordinatorEnd] = newLine(ports)
    worker.postMessage(this.#init(tabId, workerEnd), transferOf(workerEnd))
    return coordinatorEnd
  }

  /** A fresh line from the worker to a (new) coordinator; returns the coordinator's end. */
  reconnect(ports: boolean): LineRef | undefined {
    if (!this.#worker) return undefined
    const [workerEnd, coordinatorEnd] = newLine(ports)
    this.#worker.postMessage({ t: 'coordinator-port', v: PROTOCOL_VERSION, port: workerEnd }, transferOf(workerEnd))
    return coordinatorEnd
  }

  /**
   * The line of a route to this worker: the Worker channel itself (the worker matches it to the
   * route by its token); the brokered line `ref` is closed unopened.
   */
  routeLine(ref: LineRef, token: string): OwnWorkerLine | undefined {
    if (!this.#worker) return undefined
    if (typeof ref !== 'string') ref.close()
    this.#ownLine = new OwnWorkerLine(this.#worker, token, ++this.#ownLineSerial)
    return this.#ownLine
  }

  /** The worker's own view; a worker that is gone (closed, or failed to load) answers nothing. */
  async status(): Promise<WorkerStatus> {
    if (!this.#worker || this.#gone) return NO_WORKER
    try {
      return (await this.#call('worker-status')).value as WorkerStatus
    } catch {
      return NO_WORKER
    }
  }

  /** Asks the worker to close the database (if it holds it), waiting at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    if (!this.#worker) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise((resolve) => (timer = this.#env.setTimeout(() => resolve(undefined), timeoutMs)))
    await Promise.race([this.#call('close'), timedOut]).catch(() => {})
    this.#env.clearTimeout(timer)
  }

  /** Ends the worker; with `forGood`, nothing is asked of it any more. */
  terminate({ forGood }: { forGood: boolean }): void {
    this.#worker?.terminate()
    if (forGood) this.#ended()
  }

  #init(tabId: string, coordinatorPort: LineRef): InitMessage {
    const config = this.#config
    return {
      t: 'init',
      v: PROTOCOL_VERSION,
      tabId,
      filename: config.filename,
      directory: this.#names.directory,
      // Resolved here: the worker cannot resolve a page-relative URL.
      wasmUrl: config.wasmUrl ? new URL(String(config.wasmUrl), globalThis.location?.href).href : '',
      coordinatorPort,
      roleLock: this.#names.roleLock,
      leaseTimeoutMs: config.leaseTimeoutMs,
      hangTimeoutMs: config.hangTimeoutMs,
      storage: config.storage,
      openAttempts: config.openAttempts,
      openRetryDelayMs: config.openRetryDelayMs,
      debug: !!config.debug,
      warmStandby: config.warmStandby,
      connectionSetup: config.connectionSetup,
      statementTimeoutMs: config.statementTimeoutMs,
    }
  }

  #ended(): void {
    this.#gone = true
    this.#settleCalls()
  }

  /** What was asked of a worker that is gone will never be answered: answer as an idle one would. */
  #settleCalls(): void {
    for (const resolve of this.#calls.values()) resolve({ t: 'reply', id: -1, value: NO_WORKER })
    this.#calls.clear()
  }

  #call(t: 'worker-status' | 'close'): Promise<OwnWorkerReply> {
    if (this.#gone) return Promise.reject(new DatabaseClosedError('The tab worker is gone'))
    const id = this.#nextCall++
    return new Promise((resolve, reject) => {
      this.#calls.set(id, (reply) => {
        this.#calls.delete(id)
        if (reply.error) reject(deserializeError(reply.error))
        else resolve(reply)
      })
      this.#worker!.postMessage({ t, id })
    })
  }
}
