/**
 * The Kysely driver: hands out connection scopes (leases) and runs transactions and savepoints on
 * them. Kysely's SQLite statements (`begin`, `savepoint`, ...) are sent as they are; what makes a
 * transaction safe across tabs is that the whole scope holds one lease on the active worker.
 */
import {
  CompiledQuery,
  IdentifierNode,
  RawNode,
  createQueryId,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type TransactionSettings,
} from 'kysely'
import type { RequestRouter } from '../client/request-router.js'
import { TabClient } from '../client/tab-client.js'
import type { TabEvents } from '../client/tab-events.js'
import type { ResolvedConfig } from './options.js'
import { MultiTabConnection } from './multi-tab-connection.js'

type Savepoint = 'savepoint' | 'rollback to' | 'release'

export class MultiTabOpfsDriver implements Driver {
  readonly #client: TabClient
  readonly #statements: RequestRouter

  constructor(config: Readonly<ResolvedConfig>, events: TabEvents, onClient?: (client: TabClient) => void) {
    this.#client = new TabClient(config, events)
    this.#statements = this.#client.statements
    onClient?.(this.#client)
  }

  async init(): Promise<void> {
    await this.#client.start()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new MultiTabConnection(this.#statements)
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    const lease = (connection as MultiTabConnection).lease
    this.#statements.leases.pin(lease)
    await connection.executeQuery(CompiledQuery.raw('begin'))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // Sent through executeQuery (Kysely's logging wraps it); the connection gives a COMMIT an
    // operation id, so its outcome survives a hand-off (see request-router.ts).
    await connection.executeQuery(CompiledQuery.raw('commit'))
    this.#statements.leases.unpin((connection as MultiTabConnection).lease)
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = (connection as MultiTabConnection).lease
    // The holder that had this transaction is gone, and its transaction with it, or SQLite rolled
    // it back itself: nothing to undo.
    if (this.#statements.leaseLost(lease) || this.#statements.leases.ended(lease)) {
      this.#statements.leases.unpin(lease)
      return
    }
    await connection.executeQuery(CompiledQuery.raw('rollback'))
    this.#statements.leases.unpin(lease)
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#savepoint(connection, 'savepoint', name, compile)
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#savepoint(connection, 'rollback to', name, compile)
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#savepoint(connection, 'release', name, compile)
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#statements.release((connection as MultiTabConnection).lease)
  }

  async destroy(): Promise<void> {
    await this.#client.close()
  }

  async #savepoint(
    connection: DatabaseConnection,
    command: Savepoint,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    // Savepoint names come from the app; compiling them as an identifier quotes them safely.
    const node = RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)])
    await connection.executeQuery(compile(node, createQueryId()))
  }
}
