/**
 * What a tab's page and its own worker say to each other over the Worker object: starting it,
 * asking after it, stopping it, and moving the tab's route to the worker onto this channel (the
 * route's statement messages then travel here too, see statement-messages.ts). The worker checks
 * these where it receives them (worker/tab-worker-entry.ts); see message-fields.ts for what all
 * conversations share.
 */
import type { SerializedError } from './errors.js'
import type { LineRef } from './line.js'
import type { StoragePreference } from './message-fields.js'

// ---- tab main thread -> its own worker ----------------------------------------------------

export interface InitMessage {
  readonly t: 'init'
  readonly v: number
  readonly tabId: string
  readonly filename: string
  /** OPFS directory holding this database's files. */
  readonly directory: string
  readonly wasmUrl: string
  /** A line whose other end the coordinator holds. */
  readonly coordinatorPort: LineRef
  readonly roleLock: string
  readonly leaseTimeoutMs: number
  readonly hangTimeoutMs: number
  /** Which storage to open when elected (`auto`: the best this browser has). */
  readonly storage: StoragePreference
  readonly openAttempts: number
  readonly openRetryDelayMs: number
  /** Log to console.debug in the worker. */
  readonly debug: boolean
  /** Load and warm SQLite while next in line for the active role (see StandbyMessage). */
  readonly warmStandby: boolean
  /** A request's statements still running this long are interrupted (`statementTimeoutMs`). */
  readonly statementTimeoutMs: number
  /** Run on each fresh connection before it serves anyone (the `connectionSetup` option). */
  readonly connectionSetup: readonly string[]
}
export interface WorkerStatusRequest {
  readonly t: 'worker-status'
  readonly id: number
}
export interface CloseRequest {
  readonly t: 'close'
  readonly id: number
}
/** The coordinator was restarted: this is the worker's line to the new one. */
export interface CoordinatorPortMessage {
  readonly t: 'coordinator-port'
  readonly v: number
  readonly port: LineRef
}
/**
 * The tab's route to its own (active) worker goes over the Worker channel from here on, instead of
 * the line the coordinator brokered for the route with `token` (see worker/own-line.ts). The
 * worker answers with {@link OwnLineOpen} of the same `serial`.
 */
export interface OwnLineMessage {
  readonly t: 'own-line'
  readonly v: number
  readonly token: string
  readonly serial: number
}
export type TabToOwnWorker = InitMessage | WorkerStatusRequest | CloseRequest | CoordinatorPortMessage | OwnLineMessage

// ---- a tab's own worker -> its main thread ----------------------------------------------------

/** The worker's answer to `own-line`: what it posts after this belongs to that line. */
export interface OwnLineOpen {
  readonly t: 'own-line-open'
  readonly serial: number
}

/** What a tab's own worker reports about itself. */
export interface WorkerStatus {
  readonly active: boolean
  /** How many times this worker opened the database file (0 for a tab that never held it). */
  readonly openCount: number
  readonly attachedTabs: number
  /** Tabs that asked this (active) worker for change notifications. */
  readonly subscribers: number
}

/** A tab's own worker answering `worker-status` or `close`. */
export interface OwnWorkerReply {
  readonly t: 'reply'
  readonly id: number
  readonly value?: WorkerStatus
  readonly error?: SerializedError
}
