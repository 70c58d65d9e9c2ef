/**
 * The lease queue of the one SQLite connection (lease-queue.ts), with what keeps a transaction to
 * the lease that began it. A lease revoked for its idle time has its transaction rolled back. A
 * scope that ended with a transaction open (a raw BEGIN outside db.transaction() and
 * db.connection()) has it rolled back before the next lease, perhaps another tab's, gets the
 * connection: that lease's writes would otherwise commit or roll back with it. A holder yields the
 * connection between its statements only with no transaction open.
 */
import type { DebugLog } from '../protocol/debug-log.js'
import { LeaseQueue, type JobRunner } from './lease-queue.js'
import { leaseTimeoutError } from './lease-timeout-error.js'
import type { SqliteEngine } from './sqlite-engine.js'

export interface ConnectionQueueOptions<J> {
  readonly leaseTimeoutMs: number
  /** The open database, if any, when the queue needs it. */
  readonly engine: () => SqliteEngine | undefined
  readonly runner: JobRunner<J>
  /** Told of each lease revoked while it held the connection. */
  readonly revoked: () => void
  /** Told how long a statement waited behind another lease. */
  readonly waited: (ms: number) => void
  readonly log: DebugLog
}

export function connectionQueue<J>({
  leaseTimeoutMs,
  engine,
  runner,
  revoked,
  waited,
  log,
}: ConnectionQueueOptions<J>): LeaseQueue<J> {
  return new LeaseQueue({
    runner,
    waited,
    idleTimeoutMs: leaseTimeoutMs,
    timeoutError: (lease, waiting) => leaseTimeoutError(lease, waiting, leaseTimeoutMs),
    onRevoke: async () => {
      revoked()
      await engine()
        ?.rollback()
        .catch(() => {})
    },
    mayYield: () => engine()?.inTransaction === false,
    onRelease: (lease) => {
      const open = engine()
      if (!open?.inTransaction) return undefined
      return async () => {
        log('rolled back a transaction its connection scope left open', { tabId: lease.tabId, lease: lease.lease })
        await open.rollback().catch(() => {})
      }
    },
  })
}
