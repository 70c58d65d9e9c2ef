/**
 * Kysely's SQLite introspector, minus the table this library keeps in the database to make
 * writes exactly-once across hand-offs: it is ours, not the app's schema.
 */
import {
  SqliteIntrospector,
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely'
import { LEDGER_TABLE } from '../protocol/names.js'

export class MultiTabIntrospector implements DatabaseIntrospector {
  readonly #inner: SqliteIntrospector

  constructor(db: Kysely<any>) {
    this.#inner = new SqliteIntrospector(db)
  }

  getSchemas(): Promise<SchemaMetadata[]> {
    return this.#inner.getSchemas()
  }

  async getTables(options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    return (await this.#inner.getTables(options)).filter((table) => table.name !== LEDGER_TABLE)
  }

  /** Kysely 0.28's `getMetadata` (0.29 dropped it, and its `DatabaseMetadata` type). */
  async getMetadata(options?: DatabaseMetadataOptions): Promise<{ tables: TableMetadata[] }> {
    return { tables: await this.getTables(options) }
  }
}
