/**
 * Runs one tab's request on the open database and answers it: a result, an error (with whether
 * the transaction is still open), or `refused` when the worker gave the database up under it and
 * the statement may go to the next holder. Writes with an operation id go through the ledger, so
 * a retry after a hand-off is answered from the record instead of running twice.
 */
import { WriteOutcomeUnknownError, serializeError } from '../protocol/errors.js'
import type { Mutable } from '../protocol/message-fields.js'
import type { ExecError, ExecRequest, ExecResult, WorkerReply } from '../protocol/statement-messages.js'
import { checkDatabase, emptyDatabase, exportDatabase, importDatabase } from './database-file.js'
import type { OpLedger } from './op-ledger.js'
import type { SqliteEngine } from './sqlite-engine.js'

export interface StatementContext {
  readonly engine: SqliteEngine
  readonly ledger: OpLedger | undefined
  readonly statementTimeoutMs: number
  readonly filename: string
  /** Errors by name, for `health()`. */
  readonly errors: Record<string, number>
  answer(message: WorkerReply): void
  /** Runs after the statement, whatever its outcome. */
  after(): void
}

export async function runStatement(request: ExecRequest, context: StatementContext): Promise<void> {
  const { engine, answer } = context
  try {
    if (request.admin) {
      answer({ t: 'result', id: request.id, ...(await runAdmin(engine, request, context.filename)) })
      return
    }
    engine.startRequest(request.timeoutMs ?? context.statementTimeoutMs)
    if (request.describe) {
      const { reads, writes } = await engine.describe(request.sql)
      answer({ t: 'result', id: request.id, reads: [...reads], writes: [...writes] })
      return
    }
    const retry = request.retry === true
    const result = !request.op
      ? await engine.exec(request.sql, request.params)
      : request.commit
        ? await context.ledger!.commit(request.op, retry)
        : await context.ledger!.run(request.op, request.sql, request.params, retry)
    const message: Mutable<ExecResult> = { t: 'result', id: request.id, ...result }
    if (engine.inTransaction) message.tx = true
    answer(message)
  } catch (error) {
    if (engine.stopped) {
      // This worker is giving the files up. A read, or a statement of a transaction (which dies
      // with the engine), may go to the next holder. A write outside one may have been partly
      // applied (a script's first statements, a COMMIT interrupted after it committed): its
      // outcome is not known.
      if (!request.op && !request.commit && !request.admin) {
        answer({ t: 'refused', id: request.id })
      } else {
        const unknown = new WriteOutcomeUnknownError(
          `The active tab gave the database up while this write ran; it may or may not have been applied (${(error as Error)?.message ?? error})`,
        )
        answer({ t: 'error', id: request.id, error: serializeError(unknown) })
      }
      return
    }
    const name = (error as Error)?.name ?? 'Error'
    context.errors[name] = (context.errors[name] ?? 0) + 1
    const message: Mutable<ExecError> = { t: 'error', id: request.id, error: serializeError(error) }
    if (engine.inTransaction) message.tx = true
    answer(message)
  } finally {
    engine.endRequest()
    context.after()
  }
}

/** The whole-database operations (`stats` is the statement server's own). */
async function runAdmin(engine: SqliteEngine, request: ExecRequest, filename: string): Promise<Partial<ExecResult>> {
  switch (request.admin) {
    case 'export':
      return { file: await exportDatabase(engine, filename) }
    case 'import':
      await importDatabase(engine, request.params[0] as Uint8Array)
      return {}
    case 'empty':
      await emptyDatabase(engine)
      return {}
    case 'check':
      return { check: await checkDatabase(engine) }
    default:
      throw new TypeError(`Unknown operation ${String(request.admin)}`)
  }
}
