import { LeaseTimeoutError } from '../protocol/errors.js'
import type { LeaseKey } from './lease-queue.js'

/**
 * The error a lease gets when it held the connection idle for `idleTimeoutMs` while others
 * waited (its transaction is rolled back). When only its own tab's other queries waited, it was
 * most likely waiting for one of them itself: a deadlock that a retry repeats, so not retryable.
 */
export function leaseTimeoutError(lease: LeaseKey, waiting: readonly LeaseKey[], idleTimeoutMs: number): LeaseTimeoutError {
  if (waiting.every((w) => w.tabId === lease.tabId)) {
    return new LeaseTimeoutError(
      `This tab held the connection idle for over ${idleTimeoutMs} ms while only its own other queries waited; ` +
        'its transaction was rolled back. Usually the transaction was waiting for one of them, a deadlock a retry ' +
        'repeats: inside db.transaction(), db.connection() or a migration, query through the trx (or db) you are ' +
        'given, not the outer db',
      { retryable: false },
    )
  }
  return new LeaseTimeoutError(
    `Tab ${lease.tabId} held the connection idle for over ${idleTimeoutMs} ms while others waited; its transaction was rolled back`,
  )
}
