/**
 * A time limit for the queries built through one Kysely instance, in place of the dialect's
 * `statementTimeoutMs`. Kysely gives a driver no per-query options, so the plugin notes each
 * query's id when the query is compiled, and the connection reads the limit back when it sends it.
 */
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely'
import { milliseconds } from './options.js'

type QueryId = PluginTransformQueryArgs['queryId']

/** The limit of each query compiled through a StatementTimeoutPlugin; the last plugin added wins. */
const limits = new WeakMap<QueryId, number>()

/**
 * Gives the queries of `db.withPlugin(new StatementTimeoutPlugin(ms))` their own time limit:
 * the active worker interrupts such a query once it has run `ms` milliseconds, and it fails with
 * `SqliteError` `SQLITE_INTERRUPT` (not retryable; nothing of it stays), whatever the dialect's
 * `statementTimeoutMs`. Shorter, for a search box that must not keep the other tabs waiting;
 * longer, for a report or a migration step known to be slow. Raw `sql` run with the plugin's
 * instance (`` sql`...`.execute(dbWithLimit) ``) is limited too. The limit counts from when the
 * statement starts to run, not while it waits for another tab's transaction.
 *
 * @example
 * ```ts
 * import { MultiTabOpfsDialect, StatementTimeoutPlugin } from 'kysely-multitab-opfs'
 *
 * const quick = db.withPlugin(new StatementTimeoutPlugin(2_000))
 * const hits = await quick.selectFrom('note').where('body', 'like', `%${term}%`).selectAll().execute()
 *
 * const patient = db.withPlugin(new StatementTimeoutPlugin(10 * 60_000))
 * await sql`delete from event where at < ${cutoff}`.execute(patient)
 * ```
 */
export class StatementTimeoutPlugin implements KyselyPlugin {
  readonly #ms: number

  /** `ms`: whole milliseconds, 1 to 2^31 - 1 (a `RangeError` otherwise). */
  constructor(ms: number) {
    if (typeof ms !== 'number') throw new TypeError(`StatementTimeoutPlugin takes a number of milliseconds, got ${typeof ms}`)
    this.#ms = milliseconds('StatementTimeoutPlugin', ms, ms)
  }

  /** Notes the query's limit; the query itself is left as it is. */
  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    limits.set(queryId, this.#ms)
    return node
  }

  /** The result, as it is. */
  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result
  }
}

/** The time limit a StatementTimeoutPlugin gave this compiled query, if any. */
export function statementTimeoutOf(queryId: QueryId | undefined): number | undefined {
  return queryId === undefined ? undefined : limits.get(queryId)
}
