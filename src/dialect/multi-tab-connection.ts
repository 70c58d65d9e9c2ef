/**
 * One Kysely connection scope of this tab: a single query, a transaction, or a `db.connection()`
 * callback. Each scope is a lease on the active worker's single SQLite connection; its statements
 * run there in order, and while it has a transaction open no other scope's statement runs.
 */
import { RawNode, SelectQueryNode, type CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely'
import type { StatementKind } from '../client/pending-request.js'
import type { RequestRouter } from '../client/request-router.js'
import type { ExecResult } from '../protocol/statement-messages.js'
import { toBindable } from '../protocol/values.js'
import { appendCallerStack } from '../protocol/errors.js'
import { callerBeforeSend } from '../client/caller-stack.js'
import { sqlShape } from '../protocol/sql-shape.js'
import { statementTimeoutOf } from './statement-timeout-plugin.js'

export class MultiTabConnection implements DatabaseConnection {
  readonly #statements: RequestRouter
  readonly #lease: number

  constructor(statements: RequestRouter) {
    this.#statements = statements
    this.#lease = statements.leases.newLease()
  }

  get lease(): number {
    return this.#lease
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const caller = callerBeforeSend()
    let result: ExecResult
    try {
      const { sql, parameters, queryId } = compiledQuery
      const timeoutMs = statementTimeoutOf(queryId)
      result = await this.#statements.exec(
        this.#lease,
        sql,
        toBindable(parameters),
        statementKind(compiledQuery),
        timeoutMs === undefined ? undefined : { timeoutMs },
      )
    } catch (error) {
      // Made here, after the await, an Error's stack is the engine's async stack (see
      // caller-stack.ts): the awaiting callers up to the app's line that ran the query.
      throw appendCallerStack(error, caller ?? new Error())
    }
    return toQueryResult<R>(result)
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new Error('The multi-tab OPFS dialect only supports streaming of select queries')
    }
    const { rows } = await this.executeQuery<R>(compiledQuery)
    const size = Math.max(1, Math.floor(chunkSize))
    for (let i = 0; i < rows.length; i += size) {
      yield { rows: rows.slice(i, i + size) }
    }
  }
}

/**
 * Reads are resent after a hand-off as they are. Other statements get an operation id (see
 * request-router.ts): the active worker asks SQLite whether each can be recorded exactly once.
 * Raw SQL that is plainly one read is resent as a read without asking.
 */
function statementKind(compiledQuery: CompiledQuery): StatementKind {
  const node = compiledQuery.query
  if (SelectQueryNode.is(node)) return 'read'
  if (!node || RawNode.is(node)) {
    // The driver's own COMMIT: it carries an operation id so its fate survives a hand-off.
    if (COMMIT_SQL.test(compiledQuery.sql)) return 'commit'
    const { keyword, single } = sqlShape(compiledQuery.sql)
    return single && READ_ONLY_KEYWORDS.has(keyword) ? 'read' : 'raw'
  }
  return 'write'
}

/**
 * Raw SQL that cannot write: one plain SELECT, VALUES or EXPLAIN (a WITH may hide a write, a
 * PRAGMA may set something, and a second statement may be anything).
 */
const READ_ONLY_KEYWORDS = new Set(['select', 'values', 'explain'])
const COMMIT_SQL = /^\s*(commit|end)\s*(transaction)?\s*;?\s*$/i

function toQueryResult<R>(result: ExecResult): QueryResult<R> {
  if (result.columns) {
    const { columns, rows } = result
    const width = columns.length
    const objects = new Array<R>(rows!.length)
    for (let r = 0; r < objects.length; r++) {
      const values = rows![r]!
      const row: Record<string, unknown> = {}
      for (let c = 0; c < width; c++) row[columns[c]!] = values[c]
      objects[r] = row as R
    }
    return { rows: objects }
  }
  return {
    rows: [],
    numAffectedRows: result.changes === undefined ? undefined : BigInt(result.changes),
    insertId: result.lastInsertRowid === undefined ? undefined : BigInt(result.lastInsertRowid),
  }
}
