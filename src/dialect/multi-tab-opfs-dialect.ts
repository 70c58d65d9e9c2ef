/**
 * The dialect: Kysely's own SQLite adapter, query compiler and introspector, with a driver that
 * runs every statement on the one SQLite database all tabs of the origin share.
 */
import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
} from 'kysely'
import type { TabClient, TabStatus } from '../client/tab-client.js'
import { checkFilename } from '../protocol/names.js'
import { MultiTabOpfsDriver } from './multi-tab-driver.js'
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
  #client: TabClient | undefined

  constructor(config: MultiTabOpfsDialectConfig) {
    checkFilename(config?.filename)
    this.#config = resolveConfig(config)
  }

  createDriver(): Driver {
    return new MultiTabOpfsDriver(this.#config, (client) => (this.#client = client))
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter()
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db)
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
    if (!this.#client) throw new Error('status(): create a Kysely instance with this dialect first')
    await this.#client.start()
    return this.#client.status()
  }
}
