/**
 * This tab's place in the queue to host the Web Locks coordinator: every tab on the join channel
 * queues for the host lock, and the one granted runs the coordinator in a DedicatedWorker, which
 * serves once it holds the coordinator lock. A tab that finds the coordinator silent takes over
 * (see coordinator-watch.ts): it steals the host lock and starts a coordinator that steals the
 * coordinator lock. A tab whose host lock is stolen ends its coordinator and queues again.
 */
import { StorageUnavailableError } from '../protocol/errors.js'
import { coordinatorHostName, type DatabaseNames } from '../protocol/names.js'
import type { DebugLog } from '../protocol/debug-log.js'
import type { CoordinatorHostEnd, LinkEnv } from './link-env.js'

/** What hosting uses of the browser: the host lock, and the coordinator's DedicatedWorker. */
export type CoordinatorHostEnv = Pick<LinkEnv, 'locks' | 'startCoordinatorHost'>

/** This tab's turn to host the Web Locks coordinator: queued for, held, stolen or given up. */
export class CoordinatorHost {
  readonly #names: DatabaseNames
  readonly #url: string | URL | undefined
  readonly #log: DebugLog
  /** The coordinator script cannot load: no tab can host it. */
  readonly #failed: (error: Error) => void
  readonly #env: CoordinatorHostEnv
  #worker: CoordinatorHostEnd | undefined
  /** This tab's request for the host lock, queued or held; aborting it withdraws a queued one. */
  #request: AbortController | undefined
  #release: (() => void) | undefined
  #closed = false

  constructor(
    names: DatabaseNames,
    url: string | URL | undefined,
    log: DebugLog,
    failed: (error: Error) => void,
    env: CoordinatorHostEnv,
  ) {
    this.#names = names
    this.#url = url
    this.#log = log
    this.#failed = failed
    this.#env = env
  }

  /** Queues for the host lock (once). */
  queue(): void {
    if (!this.#request) this.#ask(false)
  }

  /** Steals the host lock, ending this tab's own coordinator first (a steal from itself would leave it). */
  takeOver(): void {
    this.#stop()
    this.#ask(true)
  }

  /** Ends this tab's coordinator, if it hosts one, and leaves the queue. */
  close(): void {
    this.#closed = true
    this.#stop()
    // Else the request stays queued behind the host's, and the tab that would host next waits
    // for this gone tab's turn to pass.
    this.#request?.abort()
  }

  #ask(takeOver: boolean): void {
    // A queued request is withdrawn; a held one is let go by the steal below.
    this.#request?.abort()
    const request = (this.#request = new AbortController())
    // A steal takes no signal: it is granted at once.
    const options = takeOver ? { steal: true } : { signal: request.signal }
    this.#env.locks
      .request(this.#names.hostLock, options, () => {
        if (this.#closed || this.#request !== request) return
        this.#log('hosting the Web Locks coordinator', { takeOver })
        let worker: CoordinatorHostEnd
        try {
          worker = this.#env.startCoordinatorHost(this.#url, coordinatorHostName(this.#names, takeOver))
        } catch (error) {
          // A URL the browser refuses at once (a bad or cross-origin coordinatorUrl).
          this.#failed(new StorageUnavailableError(`The coordinator worker could not start: ${(error as Error).message}`))
          return
        }
        const hosting = new Promise<void>((release) => (this.#release = release))
        worker.onerror = (event) => {
          event.preventDefault?.()
          this.#log('the coordinator host worker failed', { message: event.message })
          // A script that failed to load fires a plain Event, which has no message.
          if (event.message) {
            // It ran and threw: let another tab (or this one, queued again) host a fresh one.
            this.#queueAgain()
          } else {
            this.#failed(new StorageUnavailableError('The coordinator script failed to load as a worker'))
          }
        }
        this.#worker = worker
        return hosting
      })
      .catch((error: unknown) => {
        // Withdrawn (this tab left, or took over): nothing to do.
        if (this.#closed || this.#request !== request || (error as Error)?.name !== 'AbortError') return
        // Stolen: another tab took the coordinator over from this one, which it found silent (this
        // tab was frozen). Its coordinator, stopped by the same steal, goes.
        this.#log('another tab took the Web Locks coordinator over from this one')
        this.#queueAgain()
      })
  }

  #queueAgain(): void {
    this.#stop()
    this.#request = undefined
    if (!this.#closed) this.queue()
  }

  #stop(): void {
    this.#worker?.terminate()
    this.#worker = undefined
    this.#release?.()
    this.#release = undefined
  }
}
