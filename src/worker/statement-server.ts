/**
 * The statement server: what the active worker does with each tab's requests while it serves.
 * Every tab has its own line here (brokered by the coordinator, shown its token before anything
 * is served); each tab's statements are checked and queued under their lease in the one
 * LeaseQueue, which hands each to the {@link StatementRunner} when its turn comes.
 *
 * It holds no role state: it asks the {@link ServedRole} whether there is a database to serve and
 * whether this worker is giving it up (see active-database.ts, which owns the role's lifecycle).
 */
import { ActiveTabLostError, ProtocolError, serializeError } from '../protocol/errors.js'
import type { InitMessage } from '../protocol/own-worker-messages.js'
import { parseClientRequest, type ClientRequest, type RouteGone, type WorkerReply } from '../protocol/statement-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import type { Line } from '../protocol/line.js'
import { ChangeFanout } from './change-fanout.js'
import { connectionQueue } from './connection-queue.js'
import type { LeaseQueue } from './lease-queue.js'
import { NotRun, StatementRunner, type ServedRole, type ServerStats, type Statement } from './statement-runner.js'

type ServerOptions = Pick<InitMessage, 'leaseTimeoutMs' | 'statementTimeoutMs' | 'filename'>

export class StatementServer {
  readonly #options: ServerOptions
  readonly #role: ServedRole
  readonly #log: DebugLog
  readonly #ports = new Map<string, Line>()
  readonly #changes = new ChangeFanout(this.#ports)
  readonly #stats: ServerStats = { statements: 0, errors: {}, leaseWaits: 0, leaseWaitMs: 0, revokedLeases: 0 }
  readonly #runner: StatementRunner
  #queue: LeaseQueue<Statement>

  constructor(options: ServerOptions, role: ServedRole, log: DebugLog) {
    this.#options = options
    this.#role = role
    this.#log = log
    const serving = () => ({ queueDepth: this.#queue.depth, tabs: this.#ports.size })
    const { statementTimeoutMs, filename } = options
    this.#runner = new StatementRunner({ statementTimeoutMs, filename, stats: this.#stats, serving }, role, this.#changes, log)
    this.#queue = this.#newQueue()
  }

  get attachedTabs(): number {
    return this.#ports.size
  }

  get subscribers(): number {
    return this.#changes.size
  }

  /** Runs `task` before any tab's statement (queued ones included). */
  runFirst(task: () => Promise<void> | void): void {
    this.#queue.runNext(task)
  }

  /**
   * A coordinator that restarted elected this worker again: every tab gets a new line and takes
   * its open transactions as lost, so they are rolled back here too.
   */
  forgetTabs(): void {
    for (const port of this.#ports.values()) port.close()
    this.#ports.clear()
    this.#changes.clear()
    const engine = this.#role.engine
    this.#queue.revokeAll(new NotRun(), () => engine?.rollback().catch(() => {}))
  }

  /** Lets the lease that holds the connection finish (bounded by `timeoutMs`, or until `cut()`). */
  drain(timeoutMs: number, cut: () => boolean): Promise<void> {
    return this.#queue.drain(timeoutMs, cut)
  }

  /**
   * Refuses every statement not yet run (their tabs send them to the next holder) and resolves
   * when the one running, if any, has returned, or after `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<void> {
    const queue = this.#queue
    queue.revokeAll(new NotRun())
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([queue.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  /**
   * Closes every tab's line, with `gone` first when no coordinator will tell the tabs (else their
   * next statements would wait on a closed line without end); ready to serve afresh.
   */
  closeLines({ gone }: { gone: boolean }): void {
    for (const port of this.#ports.values()) {
      if (gone) port.postMessage({ t: 'gone' } satisfies RouteGone)
      port.close()
    }
    this.#ports.clear()
    this.#changes.clear()
    this.#queue = this.#newQueue()
  }

  /** A tab's direct line: every request it sends on `port` is served here. */
  attach(tabId: string, port: Line, token: string): void {
    this.#ports.get(tabId)?.close()
    this.#ports.set(tabId, port)
    let verified = false
    port.onmessage = (event) => {
      const request = parseClientRequest(event.data)
      if (!request) {
        this.#log('dropped a malformed request', { tabId, data: event.data })
      } else if (request.t === 'hello') {
        verified ||= request.token === token
        if (!verified) this.#log('refused a port whose token does not match', { tabId })
      } else if (verified) {
        this.#handle(tabId, port, request)
      } else {
        this.#log('dropped a request on a port not yet verified', { tabId })
      }
    }
  }

  /** The coordinator saw the tab die: roll back its transaction, free its lease, drop its port. */
  detach(tabId: string): void {
    this.#changes.subscribe(tabId, false)
    this.#queue.revokeTab(tabId, new ActiveTabLostError(`Tab ${tabId} is gone`))
    this.#ports.get(tabId)?.close()
    this.#ports.delete(tabId)
  }

  #newQueue(): LeaseQueue<Statement> {
    const stats = this.#stats
    return connectionQueue({
      leaseTimeoutMs: this.#options.leaseTimeoutMs,
      engine: () => this.#role.engine,
      runner: this.#runner,
      revoked: () => void stats.revokedLeases++,
      waited: (ms) => {
        stats.leaseWaits++
        stats.leaseWaitMs += ms
      },
      log: this.#log,
    })
  }

  #handle(tabId: string, port: Line, request: Exclude<ClientRequest, { t: 'hello' }>): void {
    if (request.t === 'withdraw') {
      this.#queue.withdraw({ tabId, lease: request.lease })
      return
    }
    if (request.t === 'subscribe') {
      this.#changes.subscribe(tabId, request.on)
      return
    }
    const released = request.t === 'release' ? request.leases : request.releases
    if (released) for (const lease of released) this.#queue.release({ tabId, lease })
    if (request.t === 'release') return
    // A tab's operation ids are its own (see request-router.ts): the line it came on says whose.
    // One naming another tab could record that tab's next write as done, or read its result.
    const exec = request.t === 'exec'
    if (exec && request.op !== undefined && !request.op.startsWith(`${tabId}:`)) {
      const error = new ProtocolError(`Operation id ${JSON.stringify(request.op)} is not one of this tab's (${tabId})`)
      reply(port, { t: 'error', id: request.id, error: serializeError(error) })
      return
    }
    if (!this.#role.engine || (this.#role.leaving && !this.#holdsConnection(tabId, request.lease))) {
      reply(port, { t: 'refused', id: request.id })
      return
    }
    // A retried COMMIT runs here under its lease, though its transaction died with the holder
    // before: nothing more of that lease comes here (the tab's release goes to that holder).
    const endsLease = exec && request.commit === true && request.retry === true
    this.#queue.enqueue({ tabId, lease: request.lease }, { port, request }, endsLease)
  }

  /** While draining, the lease that holds the connection may still finish its work. */
  #holdsConnection(tabId: string, lease: number): boolean {
    if (!this.#role.draining) return false
    const holder = this.#queue.holder
    return holder?.tabId === tabId && holder.lease === lease
  }
}

function reply(port: Line, message: WorkerReply): void {
  port.postMessage(message)
}
