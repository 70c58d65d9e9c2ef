/**
 * What the engine throws. wa-sqlite rejects with its own error, which carries SQLite's result code
 * as a number; the worker sends ours (`SqliteError`) across threads, which keeps the code and names
 * it. A statement its time limit interrupted fails with SQLite's bare "interrupted": the error says
 * which limit ended it, and what of it stayed.
 */
import { SqliteError } from '../protocol/errors.js'

const SQLITE_INTERRUPT = 9

/** wa-sqlite's errors carry a numeric `code`; ours are typed. */
export function toEngineError(error: unknown): Error {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && !(error instanceof SqliteError)) {
    return new SqliteError(error.message, (error as unknown as { code: number }).code)
  }
  return error as Error
}

/** The error of a statement the progress handler interrupted, past its request's `limitMs`. */
export function timeLimitError(cause: unknown, limitMs: number): Error {
  const error = toEngineError(cause)
  if (!(error instanceof SqliteError) || error.primaryResultCode !== SQLITE_INTERRUPT) return error
  return new SqliteError(
    `The statement ran longer than its time limit (${limitMs} ms: statementTimeoutMs, or its StatementTimeoutPlugin) ` +
      'and was interrupted; nothing of it stayed ' +
      '(inside a transaction SQLite may have rolled the whole transaction back)',
    error.resultCode,
  )
}
