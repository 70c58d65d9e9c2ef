/**
 * What the coordinator and a tab's worker say to each other, on the line the tab handed over in
 * its join: elections, brokered lines, heartbeats. Each message the worker or the coordinator
 * takes in is checked below its type; see message-fields.ts for what all conversations share.
 */
import type { SerializedError } from './errors.js'
import type { LineRef } from './line.js'
import {
  hasVersion,
  isCurrentVersion,
  isDuration,
  isInt,
  isObj,
  isPort,
  isStorage,
  isStorageReason,
  isStr,
  isTime,
  type Fields,
  type StorageKind,
} from './message-fields.js'

// ---- coordinator -> a tab's worker ----------------------------------------------------------

export interface ActivateMessage {
  readonly t: 'activate'
  readonly v: number
  readonly epoch: number
  /**
   * Take the role lock even if a (hung) worker holds it. Safe: the OPFS files themselves admit one
   * holder, so the new worker cannot open them until the old one has let them go.
   */
  readonly steal: boolean
  /**
   * When the coordinator sent it (`Date.now()`). A worker that was stalled or frozen finds old
   * messages in its queue when it resumes; a steal among them would take the role lock from the
   * worker elected since.
   */
  readonly at: number
}
const isActivate = (m: Fields): m is Fields & ActivateMessage =>
  m.t === 'activate' && isInt(m.epoch) && typeof m.steal === 'boolean' && isTime(m.at)

export interface AttachMessage {
  readonly t: 'attach'
  readonly v: number
  readonly epoch: number
  readonly tabId: string
  readonly port: LineRef
  /** The random token the tab must present on the port before anything else. */
  readonly token: string
}
const isAttach = (m: Fields): m is Fields & AttachMessage =>
  m.t === 'attach' && isInt(m.epoch) && isStr(m.tabId) && isPort(m.port) && isStr(m.token)

export interface TabGoneMessage {
  readonly t: 'tab-gone'
  readonly v: number
  readonly tabId: string
}
const isTabGone = (m: Fields): m is Fields & TabGoneMessage => m.t === 'tab-gone' && isStr(m.tabId)

/** Give the database up: (on a hand-off) finish the current lease, bounded, then close the files. */
export interface DeactivateMessage {
  readonly t: 'deactivate'
  readonly v: number
  readonly epoch: number
  /**
   * A hand-off: let the lease that holds the connection finish first. Absent for a worker that
   * was replaced (it stalled): nothing it would run can be served any more.
   */
  readonly drain?: true
}
const isDeactivate = (m: Fields): m is Fields & DeactivateMessage =>
  m.t === 'deactivate' && isInt(m.epoch) && (m.drain === undefined || m.drain === true)

/** The coordinator heard heartbeat `seq`: the worker may keep serving until its validity ends. */
export interface HeartbeatAckMessage {
  readonly t: 'ack'
  readonly v: number
  readonly epoch: number
  readonly seq: number
}
const isHeartbeatAck = (m: Fields): m is Fields & HeartbeatAckMessage => m.t === 'ack' && isInt(m.epoch) && isInt(m.seq)

/**
 * This worker's tab is next in line for the active role (`on`), or no longer is: with the
 * `warmStandby` option it loads and warms SQLite ahead of a failover, and lets it go again.
 */
export interface StandbyMessage {
  readonly t: 'standby'
  readonly v: number
  readonly on: boolean
}
const isStandby = (m: Fields): m is Fields & StandbyMessage => m.t === 'standby' && typeof m.on === 'boolean'

export type CoordinatorToWorker =
  ActivateMessage | AttachMessage | TabGoneMessage | DeactivateMessage | HeartbeatAckMessage | StandbyMessage

export function parseCoordinatorToWorker(data: unknown): CoordinatorToWorker | undefined {
  if (!hasVersion(data) || !isCurrentVersion(data)) return undefined
  if (isActivate(data) || isAttach(data) || isTabGone(data) || isDeactivate(data) || isHeartbeatAck(data) || isStandby(data)) {
    return data
  }
  return undefined
}

// ---- a tab's worker -> coordinator ----------------------------------------------------------

export interface ActivatedMessage {
  readonly t: 'activated'
  readonly v: number
  readonly epoch: number
  /** The active worker's heartbeat bound: silent this long, it is declared hung. */
  readonly hangTimeoutMs: number
  /** Where it opened the database. */
  readonly storage: StorageKind
  /** Why the preferred storage was passed over, when it was. */
  readonly storageReason?: string
}
const isActivated = (m: Fields): m is Fields & ActivatedMessage =>
  m.t === 'activated' && isInt(m.epoch) && isDuration(m.hangTimeoutMs) && isStorage(m.storage) && isStorageReason(m.storageReason)

export interface ActivateFailedMessage {
  readonly t: 'activate-failed'
  readonly v: number
  readonly epoch: number
  readonly error: SerializedError
}
const isActivateFailed = (m: Fields): m is Fields & ActivateFailedMessage =>
  m.t === 'activate-failed' && isInt(m.epoch) && isObj(m.error)

/** The active worker is alive (and, while it is still opening the database, making progress: seq 0). */
export interface HeartbeatMessage {
  readonly t: 'heartbeat'
  readonly v: number
  readonly epoch: number
  readonly seq: number
}
const isHeartbeat = (m: Fields): m is Fields & HeartbeatMessage => m.t === 'heartbeat' && isInt(m.epoch) && isInt(m.seq)

export interface DeactivatedMessage {
  readonly t: 'deactivated'
  readonly v: number
  readonly epoch: number
}
const isDeactivated = (m: Fields): m is Fields & DeactivatedMessage => m.t === 'deactivated' && isInt(m.epoch)

export type WorkerToCoordinator = ActivatedMessage | ActivateFailedMessage | HeartbeatMessage | DeactivatedMessage

export function parseWorkerToCoordinator(data: unknown): WorkerToCoordinator | undefined {
  if (!hasVersion(data) || !isCurrentVersion(data)) return undefined
  if (isActivated(data) || isHeartbeat(data) || isDeactivated(data) || isActivateFailed(data)) return data
  return undefined
}
