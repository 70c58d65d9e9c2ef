/**
 * Kysely's SQLite adapter, with transactional DDL and multiple connections switched on.
 *
 * Transactional DDL: SQLite's DDL is transactional, but Kysely's SqliteAdapter says it is not (and
 * its migration lock is a no-op, because better-sqlite3 has a single in-process connection).
 * Saying so here makes Kysely's Migrator run in one connection scope holding one transaction. In
 * this dialect that scope is one lease on the active worker's connection: no other tab's
 * statement, migrator or not, runs until it commits or rolls back. That lease is the cross-tab
 * migration lock, and the transaction makes a failed or interrupted migration leave no trace (a
 * dead active tab's open transaction is rolled back from the hot journal by the next holder).
 *
 * Multiple connections: every Kysely connection of this dialect is a lease (see
 * multi-tab-connection.ts), and the active worker's LeaseQueue serialises leases, bounding each
 * with `leaseTimeoutMs`. Kysely 0.29 puts a mutex of its own around the connections of an
 * adapter that says `false`; that mutex has no bound, so a query through the outer `db` inside
 * `db.transaction()` would wait in it forever instead of ending in a LeaseTimeoutError, and one
 * tab's independent queries could not be pipelined to the worker. Kysely 0.28 ignores the flag.
 */
import { SqliteAdapter } from 'kysely'

export class MultiTabSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }

  override get supportsMultipleConnections(): boolean {
    return true
  }
}
