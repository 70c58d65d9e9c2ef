/**
 * What this worker tells the coordinator about its role, each message naming the election (`epoch`)
 * it is about: heartbeats (while it acquires the role, and while it serves: see role-freshness.ts),
 * `activated` with the storage it opened, `activate-failed` with why, and `deactivated`.
 */
import { serializeError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, type StorageKind } from '../protocol/message-fields.js'
import type { WorkerToCoordinator } from '../protocol/worker-control-messages.js'

export class RoleReports {
  readonly #send: (message: WorkerToCoordinator) => void
  readonly #hangTimeoutMs: number

  constructor(send: (message: WorkerToCoordinator) => void, hangTimeoutMs: number) {
    this.#send = send
    this.#hangTimeoutMs = hangTimeoutMs
  }

  /** Heartbeat `seq` of the role's freshness (see role-freshness.ts), or 0 while acquiring. */
  heartbeat(epoch: number, seq: number): void {
    this.#send({ t: 'heartbeat', v: PROTOCOL_VERSION, epoch, seq })
  }

  /** The files are open on `storage` (`reason`: why not a better one). */
  activated(epoch: number, storage: StorageKind, reason: string | undefined): void {
    this.#send({
      t: 'activated',
      v: PROTOCOL_VERSION,
      epoch,
      hangTimeoutMs: this.#hangTimeoutMs,
      storage,
      ...(reason ? { storageReason: reason } : {}),
    })
  }

  activateFailed(epoch: number, error: unknown): void {
    this.#send({ t: 'activate-failed', v: PROTOCOL_VERSION, epoch, error: serializeError(error) })
  }

  deactivated(epoch: number): void {
    this.#send({ t: 'deactivated', v: PROTOCOL_VERSION, epoch })
  }
}
