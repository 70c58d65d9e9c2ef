/**
 * The dialect: Kysely's own SQLite adapter, query compiler and introspector (hiding our one
 * bookkeeping table), with a driver that runs every statement on the one SQLite database all tabs
 * of the origin share.
 */
import {
  SqliteQueryCompiler,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
} from 'kysely'
import type { TabClient, TabStatus } from '../client/tab-client.js'
import { TabEvents, type MultiTabEventName, type MultiTabListener } from '../client/tab-events.js'
import type { MetricsSnapshot } from '../client/tab-metrics.js'
import type { TablesChangedListener } from '../client/table-changes.js'
import { watchQuery, type WatchOptions, type WatchableQuery } from './watch.js'
import type { DatabaseStats } from '../protocol/statement-messages.js'
import { checkFilename } from '../protocol/names.js'
import { healthReport, storageEstimate, type HealthReport, type StorageEstimateSummary } from './health-report.js'
import { MultiTabSqliteAdapter } from './multi-tab-adapter.js'
import { MultiTabOpfsDriver } from './multi-tab-driver.js'
import { MultiTabIntrospector } from './multi-tab-introspector.js'
import { resolveConfig, type MultiTabOpfsDialectConfig, type ResolvedConfig } from './options.js'

/**
 * A Kysely dialect that gives every tab of a web origin one shared SQLite database (wa-sqlite on
 * OPFS). One tab, the active one, holds the database in its worker; every other tab's queries are
 * routed there, and another tab takes over when it goes away.
 *
 * @example
 * ```ts
 * import { Kysely } from 'kysely'
 * import { MultiTabOpfsDialect } from 'kysely-multitab-opfs'
 *
 * const dialect = new MultiTabOpfsDialect({ filename: 'app.db' })
 * const db = new Kysely<DB>({ dialect })
 * await db.insertInto('todo').values({ title: 'x' }).execute()
 * console.log((await dialect.status()).role) // 'active' or 'follower'
 * ```
 */
export class MultiTabOpfsDialect implements Dialect {
  readonly #config: Readonly<ResolvedConfig>
  readonly #events = new TabEvents()
  #client: TabClient | undefined

  constructor(config: MultiTabOpfsDialectConfig) {
    checkFilename(config?.filename)
    this.#config = resolveConfig(config)
  }

  createDriver(): Driver {
    return new MultiTabOpfsDriver(this.#config, this.#events, (client) => (this.#client = client))
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }

  createAdapter(): DialectAdapter {
    return new MultiTabSqliteAdapter()
  }

  /** SQLite's introspector, without the table the library keeps its operation ids in. */
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new MultiTabIntrospector(db)
  }

  /**
   * This tab's view of the shared database: its role, the active tab, the coordinator and
   * storage in use. Rejects if no Kysely instance was made with this dialect yet.
   *
   * @example
   * ```ts
   * const { role, activeTabId } = await dialect.status()
   * ```
   */
  async status(): Promise<TabStatus> {
    const client = this.#started('status')
    await client.start()
    return client.status()
  }

  /**
   * This tab's own measurements: query latency by role, hand-offs seen and their durations,
   * errors by type, statements in flight.
   *
   * @example
   * ```ts
   * const { latencyMs, handoffs } = dialect.metrics()
   * console.log(`p95 ${latencyMs.follower.p95} ms, ${handoffs.count} hand-offs`)
   * ```
   */
  metrics(): MetricsSnapshot {
    return this.#started('metrics').metrics()
  }

  /**
   * Asks that this tab become the active one (e.g. before heavy work, or when the active tab is in
   * the background). The current active tab finishes its current transaction (bounded by
   * `leaseTimeoutMs`), closes the database, and this tab opens it. Resolves with this tab's id.
   *
   * @example
   * ```ts
   * await dialect.requestActive()
   * await bulkImport(db) // runs in this tab's own worker, no cross-tab hop
   * ```
   */
  requestActive(): Promise<string> {
    return this.#started('requestActive').handoff('claim')
  }

  /**
   * Hands the active role to another open tab, if there is one (e.g. when this tab goes to the
   * background or is about to do heavy work on its main thread). Resolves with the new active
   * tab's id (this tab's own if it is the only one).
   *
   * @example
   * ```ts
   * document.addEventListener('visibilitychange', () => {
   *   if (document.hidden) void dialect.stepDown()
   * })
   * ```
   */
  async stepDown(): Promise<string> {
    return this.#started('stepDown').handoff('release')
  }

  /**
   * Subscribes to an event of the shared database, seen from this tab; returns the unsubscribe
   * function. Subscribe before the first query to see the first election.
   *
   * @example
   * ```ts
   * const off = dialect.on('active-changed', (e) => {
   *   console.log(`active tab: ${e.activeTabId} (${e.reason}, hand-off took ${e.handoffMs} ms)`)
   * })
   * ```
   */
  on<K extends MultiTabEventName>(name: K, listener: MultiTabListener<K>): () => void {
    return this.#events.on(name, listener)
  }

  /**
   * Calls `listener` after each transaction that wrote any of `tables` commits, in any tab (this
   * one included), once per transaction; never for a rolled-back one. After a hand-off, listeners
   * get one `{ tables: 'all', reason: 'handoff' }` (commits may have gone unseen meanwhile); after
   * a committed schema change (a migration, an import, any CREATE, DROP or ALTER), one
   * `{ tables: 'all', reason: 'schema' }`.
   * Pass `undefined` to hear about every table. Returns the unsubscribe function. No
   * notification traffic flows while a tab has no listener.
   *
   * @example
   * ```ts
   * const off = dialect.onTablesChanged(['todo'], () => void refreshTodoList())
   * ```
   */
  onTablesChanged(tables: readonly string[] | undefined, listener: TablesChangedListener): () => void {
    const client = this.#started('onTablesChanged')
    void client.start().catch(() => {})
    return client.changes.add(tables, listener)
  }

  /**
   * Runs `query` now and again whenever a table it reads changes (in any tab), at most once per
   * animation frame (or per `debounce` ms), and calls `callback` with its rows. Returns the
   * function that stops watching.
   *
   * @example
   * ```ts
   * const stop = dialect.watch(
   *   db.selectFrom('todo').selectAll().orderBy('id'),
   *   (todos) => render(todos), // typed: the query's result rows
   * )
   * ```
   */
  watch<R>(query: WatchableQuery<R>, callback: (rows: R[]) => void, options?: WatchOptions): () => void {
    const client = this.#started('watch')
    void client.start().catch(() => {})
    return watchQuery(client, query, callback, options)
  }

  /**
   * A health check from this tab: the tabs and which is active, coordinator and storage, the round
   * trip to the active worker, `PRAGMA quick_check` and the file's size, the time since the active
   * worker's last acknowledged heartbeat, persistence and the origin's storage use and quota.
   *
   * @example
   * ```ts
   * const health = await dialect.health()
   * if (health.database.quickCheck !== 'ok') reportCorruption(health)
   * ```
   */
  async health(): Promise<HealthReport> {
    return healthReport(this.#started('health'))
  }

  /**
   * What the active worker counted for every tab's statements (statements, errors by type, lease
   * waits, queue depth), and the origin's storage use and quota. See {@link metrics} for this
   * tab's own latency and hand-offs.
   *
   * @example
   * ```ts
   * const { statements, leaseWaits, storage } = await dialect.databaseMetrics()
   * ```
   */
  async databaseMetrics(): Promise<DatabaseStats & { storage: StorageEstimateSummary | undefined }> {
    const { stats } = await this.#started('databaseMetrics').admin('stats')
    return { ...stats!, storage: await storageEstimate() }
  }

  /**
   * The whole database as an SQLite file (what the sqlite3 CLI opens), consistent: taken between
   * transactions, from any tab.
   *
   * @example
   * ```ts
   * const bytes = await dialect.exportDatabase()
   * download(new Blob([bytes.slice()], { type: 'application/vnd.sqlite3' }), 'backup.db')
   * ```
   */
  async exportDatabase(): Promise<Uint8Array> {
    const { file } = await this.#started('exportDatabase').admin('export')
    return file!
  }

  /**
   * Replaces the database's content with an SQLite file's, for every tab, atomically: the file is
   * checked first (`quick_check`), then its schema and rows replace the app's in one transaction.
   * Change listeners hear `{ tables: 'all', reason: 'schema' }` (if the schema changed). A file
   * with virtual tables (FTS5, R*Tree: modules the bundled SQLite lacks) is refused with a
   * `SqliteError` naming them, and nothing changes; generated columns are recomputed.
   *
   * @example
   * ```ts
   * await dialect.importDatabase(new Uint8Array(await file.arrayBuffer()))
   * ```
   */
  async importDatabase(file: Uint8Array | ArrayBuffer | Blob): Promise<void> {
    const bytes =
      file instanceof Uint8Array
        ? file
        : file instanceof ArrayBuffer
          ? new Uint8Array(file)
          : new Uint8Array(await (file as Blob).arrayBuffer())
    await this.#started('importDatabase').admin('import', bytes)
  }

  /**
   * Deletes every table, index, view and trigger of the app, for every tab, in one transaction,
   * and shrinks the file.
   *
   * @example
   * ```ts
   * await dialect.deleteDatabase() // then run the migrations again
   * ```
   */
  async deleteDatabase(): Promise<void> {
    await this.#started('deleteDatabase').admin('empty')
  }

  #started(method: string): TabClient {
    if (!this.#client) throw new Error(`${method}(): create a Kysely instance with this dialect first`)
    return this.#client
  }
}
