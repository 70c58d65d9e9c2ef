/**
 * The database as served by the active tab's worker to every tab.
 *
 * Becoming active means: take the role Web Lock (waiting while any other worker holds it), then
 * open the OPFS files. The lock is held until the files are closed again, and the browser drops it
 * if this worker dies, so at no moment do two workers hold the files: the lock, not timing, makes
 * a second writer impossible.
 *
 * Each tab reaches this worker over its own brokered MessagePort; statements are serialised
 * through one LeaseQueue (see lease-queue.ts).
 */
import {
  ActiveTabLostError,
  LeaseTimeoutError,
  serializeError,
} from '../protocol/errors.js'
import type { ClientRequest, ExecRequest, InitMessage, WorkerReply } from '../protocol/messages.js'
import { parseClientRequest } from '../protocol/validate.js'
import { LeaseQueue } from './lease-queue.js'
import { SqliteEngine } from './sqlite-engine.js'

export class ActiveDatabase {
  readonly #init: InitMessage
  readonly #wasmUrl: string
  readonly #ports = new Map<string, MessagePort>()
  readonly #queue: LeaseQueue
  #engine: SqliteEngine | undefined
  #releaseRole: (() => void) | undefined
  #openCount = 0

  constructor(init: InitMessage, wasmUrl: string) {
    this.#init = init
    this.#wasmUrl = wasmUrl
    this.#queue = new LeaseQueue({
      idleTimeoutMs: init.leaseTimeoutMs,
      timeoutError: (lease) =>
        new LeaseTimeoutError(
          `Tab ${lease.tabId} held the connection idle for over ${init.leaseTimeoutMs} ms while others waited; its transaction was rolled back`,
        ),
      onRevoke: async () => {
        await this.#engine?.rollback().catch(() => {})
      },
    })
  }

  get active(): boolean {
    return this.#engine !== undefined
  }

  get openCount(): number {
    return this.#openCount
  }

  get attachedTabs(): number {
    return this.#ports.size
  }

  /**
   * Takes the role lock and opens the files. Resolves once open; rejects (releasing the lock) if
   * they cannot be opened within the bounded retries.
   */
  activate(): Promise<void> {
    if (this.#engine) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      void navigator.locks
        .request(this.#init.roleLock, { mode: 'exclusive' }, async () => {
          try {
            this.#engine = await SqliteEngine.open({
              directory: this.#init.directory,
              filename: this.#init.filename,
              wasmUrl: this.#wasmUrl,
              attempts: this.#init.openAttempts,
              retryDelayMs: this.#init.openRetryDelayMs,
            })
          } catch (error) {
            reject(error)
            return
          }
          this.#openCount++
          resolve()
          // Hold the role for as long as the files are open.
          await new Promise<void>((release) => (this.#releaseRole = release))
        })
        .catch(reject)
    })
  }

  /** Gives the database up: fails what waits, closes the files, then lets the role lock go. */
  async deactivate(): Promise<void> {
    const engine = this.#engine
    if (!engine) return
    this.#engine = undefined
    this.#queue.revokeAll(new ActiveTabLostError('The active tab gave the database up'))
    await engine.rollback().catch(() => {})
    await engine.close().catch(() => {})
    for (const port of this.#ports.values()) port.close()
    this.#ports.clear()
    this.#releaseRole?.()
    this.#releaseRole = undefined
  }

  /** A tab's direct line: every request it sends on `port` is served here. */
  attach(tabId: string, port: MessagePort): void {
    this.#ports.get(tabId)?.close()
    this.#ports.set(tabId, port)
    port.onmessage = (event) => {
      const request = parseClientRequest(event.data)
      if (request) this.#handle(tabId, port, request)
    }
  }

  /** The coordinator saw the tab die: roll back its transaction, free its lease, drop its port. */
  detach(tabId: string): void {
    this.#queue.revokeTab(tabId, new ActiveTabLostError(`Tab ${tabId} is gone`))
    this.#ports.get(tabId)?.close()
    this.#ports.delete(tabId)
  }

  #handle(tabId: string, port: MessagePort, request: ClientRequest): void {
    if (request.t === 'release') {
      this.#queue.release({ tabId, lease: request.lease })
      return
    }
    this.#queue
      .submit({ tabId, lease: request.lease }, () => this.#exec(port, request))
      .catch((error: Error) => reply(port, { t: 'error', id: request.id, error: serializeError(error) }))
  }

  async #exec(port: MessagePort, request: ExecRequest): Promise<void> {
    const engine = this.#engine
    if (!engine) {
      reply(port, {
        t: 'error',
        id: request.id,
        error: serializeError(new ActiveTabLostError('This tab no longer holds the database')),
      })
      return
    }
    try {
      const result = await engine.exec(request.sql, request.params)
      reply(port, { t: 'result', id: request.id, ...result })
    } catch (error) {
      reply(port, { t: 'error', id: request.id, error: serializeError(error) })
    }
  }
}

function reply(port: MessagePort, message: WorkerReply): void {
  port.postMessage(message)
}
