/**
 * The statement server: what the active worker does with each tab's requests while it serves.
 * Every tab has its own line here (brokered by the coordinator, shown its token before anything
 * is served); statements from all of them run one lease at a time through one LeaseQueue, each
 * checked against the role's freshness right before it runs; commits are told to subscribed tabs.
 *
 * It holds no role state: it asks the {@link ServedRole} whether there is a database to serve and
 * whether this worker is giving it up (see active-database.ts, which owns the role's lifecycle).
 */
import { ActiveTabLostError, ProtocolError, serializeError } from '../protocol/errors.js'
import type { InitMessage } from '../protocol/own-worker-messages.js'
import {
  parseClientRequest,
  type ClientRequest,
  type ExecRequest,
  type ExecResult,
  type RouteGone,
  type WorkerReply,
} from '../protocol/statement-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import type { Line } from '../protocol/line.js'
import { connectionQueue } from './connection-queue.js'
import type { LeaseQueue } from './lease-queue.js'
import type { OpLedger } from './op-ledger.js'
import { runStatement } from './statement-runner.js'
import type { SqliteEngine } from './sqlite-engine.js'
import type { RoleFreshness } from './role-freshness.js'

/** What the server needs to know of the role it serves under. */
export interface ServedRole {
  /** The open database, while this worker has it. */
  readonly engine: SqliteEngine | undefined
  readonly ledger: OpLedger | undefined
  /** Giving the database up: no new statement runs, except the draining lease's. */
  readonly leaving: boolean
  /** Handing over: the lease that holds the connection may still finish its work. */
  readonly draining: boolean
  readonly freshness: RoleFreshness
  /** Told to go without a drain: another tab may serve a copy of the files (see #answer). */
  readonly replaced: boolean
}

/** A statement the worker did not run because it is giving the database up: its tab resends it. */
class NotRun extends Error {}

type ServerOptions = Pick<InitMessage, 'leaseTimeoutMs' | 'statementTimeoutMs' | 'filename'>

export class StatementServer {
  readonly #options: ServerOptions
  readonly #role: ServedRole
  readonly #log: DebugLog
  readonly #ports = new Map<string, Line>()
  /** Tabs that want to hear which tables each commit wrote. */
  readonly #subscribers = new Set<string>()
  readonly #stats = { statements: 0, errors: {} as Record<string, number>, leaseWaits: 0, leaseWaitMs: 0, revokedLeases: 0 }
  #queue: LeaseQueue

  constructor(options: ServerOptions, role: ServedRole, log: DebugLog) {
    this.#options = options
    this.#role = role
    this.#log = log
    this.#queue = this.#newQueue()
  }

  get attachedTabs(): number {
    return this.#ports.size
  }

  get subscribers(): number {
    return this.#subscribers.size
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
    this.#subscribers.clear()
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
    this.#subscribers.clear()
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
    this.#subscribers.delete(tabId)
    this.#queue.revokeTab(tabId, new ActiveTabLostError(`Tab ${tabId} is gone`))
    this.#ports.get(tabId)?.close()
    this.#ports.delete(tabId)
  }

  #newQueue(): LeaseQueue {
    const revoked = () => void this.#stats.revokedLeases++
    return connectionQueue(this.#options.leaseTimeoutMs, () => this.#role.engine, revoked, this.#log)
  }

  /**
   * Resolves true when the role is fresh (at once, or after the coordinator acknowledges a new
   * heartbeat), false when this worker lost the role (it is then letting the files go).
   */
  #fresh(): Promise<boolean> {
    if (!this.#role.engine) return Promise.resolve(false)
    return this.#role.freshness.renew()
  }

  #handle(tabId: string, port: Line, request: Exclude<ClientRequest, { t: 'hello' }>): void {
    if (request.t === 'withdraw') {
      this.#queue.withdraw({ tabId, lease: request.lease })
      return
    }
    if (request.t === 'subscribe') {
      if (request.on) this.#subscribers.add(tabId)
      else this.#subscribers.delete(tabId)
      return
    }
    const released = request.t === 'release' ? request.leases : request.releases
    if (released) for (const lease of released) this.#queue.release({ tabId, lease })
    if (request.t === 'release') return
    // A tab's operation ids are its own (see request-router.ts): the line it came on says whose.
    // One naming another tab could record that tab's next write as done, or read its result.
    if (request.op !== undefined && !request.op.startsWith(`${tabId}:`)) {
      const error = new ProtocolError(`Operation id ${JSON.stringify(request.op)} is not one of this tab's (${tabId})`)
      reply(port, { t: 'error', id: request.id, error: serializeError(error) })
      return
    }
    if (!this.#role.engine || (this.#role.leaving && !this.#holdsConnection(tabId, request.lease))) {
      reply(port, { t: 'refused', id: request.id })
      return
    }
    // A statement usually runs within enqueue(), having waited for nothing: the clock is read
    // only for one that queued (performance.now() costs about 0.5 µs in Chromium 156).
    let started = false
    let queuedAt = -1
    this.#queue.enqueue(
      { tabId, lease: request.lease },
      () => {
        started = true
        if (queuedAt >= 0) {
          const waited = performance.now() - queuedAt
          if (waited > 1) {
            this.#stats.leaseWaits++
            this.#stats.leaseWaitMs += waited
          }
        }
        const ran = this.#exec(port, request)
        // A retried COMMIT ran here under its lease, though its transaction died with the holder
        // before: nothing more of that lease comes here (the tab's release goes to that holder).
        return request.commit && request.retry ? ran.then(() => this.#queue.release({ tabId, lease: request.lease })) : ran
      },
      (error: Error) =>
        reply(
          port,
          error instanceof NotRun
            ? { t: 'refused', id: request.id }
            : { t: 'error', id: request.id, error: serializeError(error) },
        ),
    )
    if (!started) queuedAt = performance.now()
  }

  /** While draining, the lease that holds the connection may still finish its work. */
  #holdsConnection(tabId: string, lease: number): boolean {
    if (!this.#role.draining) return false
    const holder = this.#queue.holder
    return holder?.tabId === tabId && holder.lease === lease
  }

  #exec(port: Line, request: ExecRequest): Promise<void> {
    // Checked right before running: the worker may have stalled while this waited. Fresh is the
    // common case, and it is checked without a Promise of its own.
    const engine = this.#role.engine
    if (engine && this.#role.freshness.fresh) return this.#run(port, request, engine)
    return this.#fresh().then((fresh) => {
      const engine = this.#role.engine
      if (!fresh || !engine) return reply(port, { t: 'refused', id: request.id })
      return this.#run(port, request, engine)
    })
  }

  #run(port: Line, request: ExecRequest, engine: SqliteEngine): Promise<void> {
    this.#stats.statements++
    if (request.admin === 'stats') {
      reply(port, { t: 'result', id: request.id, stats: this.#statsNow() })
      return Promise.resolve()
    }
    let answered: boolean | Promise<boolean> = false
    return runStatement(request, {
      engine,
      ledger: this.#role.ledger,
      statementTimeoutMs: this.#options.statementTimeoutMs,
      filename: this.#options.filename,
      errors: this.#stats.errors,
      answer: (message) => (answered = this.#answer(port, message)),
      after: () => {
        // Taken now, before the next statement adds its own; told once the answer went out.
        if (!engine.hasCommittedWrites) return
        const changes = engine.takeCommittedWrites()
        if (answered === true) this.#publishChanges(changes)
        else if (answered) void answered.then((sent) => sent && this.#publishChanges(changes))
      },
    })
  }

  /**
   * A statement's answer goes out while the role is fresh. A worker that stalled while the
   * statement ran (a frozen tab) may have been replaced meanwhile, its files copied away from it
   * before the statement wrote (see pool-directory.ts): it asks again first, and if the role is
   * gone it keeps the answer, so the tab takes the statement as lost with its holder and the
   * failover table decides (a recorded write is asked of the next holder's ledger). `refused`
   * (not run) is true wherever it goes.
   */
  #answer(port: Line, message: WorkerReply): boolean | Promise<boolean> {
    if (this.#role.freshness.fresh || message.t === 'refused') {
      reply(port, message)
      return true
    }
    const send = (fresh: boolean) => {
      // Closed by a hand-off (not replaced), before or while it asked: the next holder opens
      // these same files.
      if (fresh || (!this.#role.replaced && !this.#role.engine)) {
        reply(port, message)
        return true
      }
      this.#log('kept an answer: the role was lost while its statement ran', { id: 'id' in message ? message.id : undefined })
      return false
    }
    return this.#role.replaced || !this.#role.engine ? send(false) : this.#fresh().then(send)
  }

  #statsNow(): NonNullable<ExecResult['stats']> {
    return {
      ...this.#stats,
      errors: { ...this.#stats.errors },
      queueDepth: this.#queue.depth,
      tabs: this.#ports.size,
      sinceHeartbeatMs: Math.round(this.#role.freshness.sinceAckMs),
    }
  }

  /** After a commit (never before, never for a rollback): tell the subscribed tabs, the writer too. */
  #publishChanges({ tables, schema }: ReturnType<SqliteEngine['takeCommittedWrites']>): void {
    if (this.#subscribers.size === 0) return
    const message: WorkerReply = schema ? { t: 'changes', tables: [...tables], schema } : { t: 'changes', tables: [...tables] }
    for (const tabId of this.#subscribers) this.#ports.get(tabId)?.postMessage(message)
  }
}

function reply(port: Line, message: WorkerReply): void {
  port.postMessage(message)
}
