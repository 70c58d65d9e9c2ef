/**
 * Runs each tab's statement when its lease's turn comes (the lease queue hands it here) and
 * answers it on the tab's line: a result, an error (with whether the transaction is still open),
 * or `refused` when the worker gave the database up under it and the statement may go to the next
 * holder. Right before it runs, the role's freshness is checked; writes with an operation id go
 * through the ledger, so a retry after a hand-off is answered from the record instead of running
 * twice; after a commit, the subscribed tabs hear which tables it wrote.
 */
import { WriteOutcomeUnknownError, serializeError } from '../protocol/errors.js'
import type { Mutable } from '../protocol/message-fields.js'
import type {
  AdminRequest,
  ExecError,
  ExecRequest,
  ExecResult,
  StatementRequest,
  WorkerReply,
} from '../protocol/statement-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import type { Line } from '../protocol/line.js'
import type { ChangeFanout } from './change-fanout.js'
import { checkDatabase, emptyDatabase, exportDatabase, importDatabase } from './database-file.js'
import type { JobRunner } from './lease-queue.js'
import type { OpLedger } from './op-ledger.js'
import type { RoleFreshness } from './role-freshness.js'
import type { SqliteEngine, StatementResult } from './sqlite-engine.js'

/** A tab's statement, describe or whole-database operation, with the line it came on (where its answer goes). */
export interface Statement {
  readonly port: Line
  readonly request: StatementRequest
}

/** A statement the worker did not run because it is giving the database up: its tab resends it. */
export class NotRun extends Error {}

/** What the runner needs to know of the role it serves under. */
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

/** The statement server's counters, for `health()`. */
export interface ServerStats {
  statements: number
  /** Errors by name. */
  readonly errors: Record<string, number>
  leaseWaits: number
  leaseWaitMs: number
  revokedLeases: number
}

export interface RunnerOptions {
  readonly statementTimeoutMs: number
  readonly filename: string
  readonly stats: ServerStats
  /** The server's own figures for the `stats` operation: its queue and its tabs. */
  readonly serving: () => { queueDepth: number; tabs: number }
}

export class StatementRunner implements JobRunner<Statement> {
  readonly #options: RunnerOptions
  readonly #role: ServedRole
  readonly #changes: ChangeFanout
  readonly #log: DebugLog

  constructor(options: RunnerOptions, role: ServedRole, changes: ChangeFanout, log: DebugLog) {
    this.#options = options
    this.#role = role
    this.#changes = changes
    this.#log = log
  }

  run({ port, request }: Statement): Promise<void> {
    // Checked right before running: the worker may have stalled while this waited. Fresh is the
    // common case, and it is checked without a Promise of its own.
    const engine = this.#role.engine
    if (engine && this.#role.freshness.fresh) return this.#run(port, request, engine)
    return this.#fresh().then((fresh) => {
      const engine = this.#role.engine
      if (!fresh || !engine) return port.postMessage({ t: 'refused', id: request.id } satisfies WorkerReply)
      return this.#run(port, request, engine)
    })
  }

  refuse({ port, request }: Statement, error: Error): void {
    const message: WorkerReply =
      error instanceof NotRun ? { t: 'refused', id: request.id } : { t: 'error', id: request.id, error: serializeError(error) }
    port.postMessage(message)
  }

  /**
   * Resolves true when the role is fresh (at once, or after the coordinator acknowledges a new
   * heartbeat), false when this worker lost the role (it is then letting the files go).
   */
  #fresh(): Promise<boolean> {
    if (!this.#role.engine) return Promise.resolve(false)
    return this.#role.freshness.renew()
  }

  #run(port: Line, request: StatementRequest, engine: SqliteEngine): Promise<void> {
    const stats = this.#options.stats
    stats.statements++
    if (request.t === 'admin' && request.operation === 'stats') {
      port.postMessage({ t: 'result', id: request.id, stats: this.#statsNow() } satisfies WorkerReply)
      return Promise.resolve()
    }
    return this.#execute(port, request, engine)
  }

  async #execute(port: Line, request: StatementRequest, engine: SqliteEngine): Promise<void> {
    let answered: boolean | Promise<boolean> = false
    const answer = (message: WorkerReply) => (answered = this.#answer(port, message))
    try {
      if (request.t === 'admin') {
        answer({ t: 'result', id: request.id, ...(await runAdmin(engine, request, this.#options.filename)) })
        return
      }
      engine.startRequest(request.timeoutMs ?? this.#options.statementTimeoutMs)
      if (request.t === 'describe') {
        const { reads, writes } = await engine.describe(request.sql)
        answer({ t: 'result', id: request.id, reads: [...reads], writes: [...writes] })
        return
      }
      const message: Mutable<ExecResult> = { t: 'result', id: request.id, ...(await this.#exec(request, engine)) }
      if (engine.inTransaction) message.tx = true
      answer(message)
    } catch (error) {
      answer(this.#failed(request, engine, error))
    } finally {
      engine.endRequest()
      // Taken now, before the next statement adds its own; told once the answer went out.
      if (engine.hasCommittedWrites) this.#changes.publishWhenAnswered(engine.takeCommittedWrites(), answered)
    }
  }

  /**
   * Runs SQL: through the ledger when it has an operation id, so a retry is answered from the
   * record. Not async: the caller's one await is the statement's.
   */
  #exec(request: ExecRequest, engine: SqliteEngine): Promise<StatementResult> {
    if (!request.op) return engine.exec(request.sql, request.params)
    const retry = request.retry === true
    const ledger = this.#role.ledger!
    return request.commit ? ledger.commit(request.op, retry) : ledger.run(request.op, request.sql, request.params, retry)
  }

  /** The answer to a request that threw. */
  #failed(request: StatementRequest, engine: SqliteEngine, error: unknown): WorkerReply {
    if (engine.stopped) {
      // This worker is giving the files up. A read, or a statement of a transaction (which dies
      // with the engine), may go to the next holder. A write outside one may have been partly
      // applied (a script's first statements, a COMMIT interrupted after it committed), as may a
      // whole-database operation: its outcome is not known.
      const resendable = request.t === 'describe' || (request.t === 'exec' && !request.op && !request.commit)
      if (resendable) return { t: 'refused', id: request.id }
      const unknown = new WriteOutcomeUnknownError(
        `The active tab gave the database up while this write ran; it may or may not have been applied (${(error as Error)?.message ?? error})`,
      )
      return { t: 'error', id: request.id, error: serializeError(unknown) }
    }
    const errors = this.#options.stats.errors
    const name = (error as Error)?.name ?? 'Error'
    errors[name] = (errors[name] ?? 0) + 1
    const message: Mutable<ExecError> = { t: 'error', id: request.id, error: serializeError(error) }
    if (engine.inTransaction) message.tx = true
    return message
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
      port.postMessage(message)
      return true
    }
    const send = (fresh: boolean) => {
      // Closed by a hand-off (not replaced), before or while it asked: the next holder opens
      // these same files.
      if (fresh || (!this.#role.replaced && !this.#role.engine)) {
        port.postMessage(message)
        return true
      }
      this.#log('kept an answer: the role was lost while its statement ran', { id: 'id' in message ? message.id : undefined })
      return false
    }
    return this.#role.replaced || !this.#role.engine ? send(false) : this.#fresh().then(send)
  }

  #statsNow(): NonNullable<ExecResult['stats']> {
    const stats = this.#options.stats
    return {
      ...stats,
      errors: { ...stats.errors },
      ...this.#options.serving(),
      sinceHeartbeatMs: Math.round(this.#role.freshness.sinceAckMs),
    }
  }
}

/** The whole-database operations (`stats` is the runner's own). */
async function runAdmin(engine: SqliteEngine, request: AdminRequest, filename: string): Promise<Partial<ExecResult>> {
  switch (request.operation) {
    case 'export':
      return { file: await exportDatabase(engine, filename) }
    case 'import':
      await importDatabase(engine, request.file!)
      return {}
    case 'empty':
      await emptyDatabase(engine)
      return {}
    case 'check':
      return { check: await checkDatabase(engine) }
    case 'stats':
      throw new TypeError('stats is answered before it reaches here')
  }
}
