/**
 * Kysely's SQLite adapter, with transactional DDL switched on.
 *
 * SQLite's DDL is transactional, but Kysely's SqliteAdapter says it is not (and its migration lock
 * is a no-op, because better-sqlite3 has a single in-process connection). Saying so here makes
 * Kysely's Migrator run in one connection scope holding one transaction. In this dialect that
 * scope is one lease on the active worker's connection: no other tab's statement, migrator or not,
 * runs until it commits or rolls back. That lease is the cross-tab migration lock, and the
 * transaction makes a failed or interrupted migration leave no trace (a dead active tab's open
 * transaction is rolled back from the hot journal by the next holder).
 */
import { SqliteAdapter } from 'kysely'

export class MultiTabSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}
