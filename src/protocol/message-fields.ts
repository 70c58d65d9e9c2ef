/**
 * What the messages of every conversation share: the protocol version, the values and names that
 * appear in several of them, and the checks on single fields that their validators are made of.
 * Each conversation's messages, with their validators beside them, are in a file of their own:
 * coordinator-messages.ts, worker-control-messages.ts, own-worker-messages.ts, statement-messages.ts.
 *
 * Control messages carry the protocol version `v` (all but a tab's `worker-status` and `close` to
 * its own worker, which that tab's own release built); a tab built from another release is refused
 * at `join`, so the hot-path messages on a brokered line (which only a joined tab can hold) stay
 * small and unversioned.
 *
 * A malformed message is dropped by its receiver (never thrown into its event loop), so a stray
 * `postMessage` from any script cannot crash a runtime or wedge a queue.
 */
import { isLineName, type LineRef } from './line.js'

/** Bumped on any incompatible change to any message. */
export const PROTOCOL_VERSION = 6

/** A message being built field by field (only the fields that are set are cloned across threads). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A value SQLite can store, as it crosses threads. */
export type SqlValue = null | number | bigint | string | Uint8Array

/** Where the database lives (see worker/storage-choice.ts). */
const STORAGE_KINDS = ['opfs-sahpool', 'opfs', 'idb', 'memory'] as const
export type StorageKind = (typeof STORAGE_KINDS)[number]
/** The `storage` option: a storage, or `auto` (the best this browser has). */
export const STORAGE_PREFERENCES = ['auto', ...STORAGE_KINDS] as const
export type StoragePreference = (typeof STORAGE_PREFERENCES)[number]

/**
 * Why the active tab changed. `coordinator-lost`: the active worker heard nothing from the
 * coordinator for twice `hangTimeoutMs` and let the database go on its own. `hidden`: the active
 * tab was in the background for `hiddenHandoffMs` while another tab was visible.
 */
const HANDOFF_REASONS = ['elected', 'closed', 'crashed', 'hung', 'manual', 'failed', 'coordinator-lost', 'hidden'] as const
export type HandoffReason = (typeof HANDOFF_REASONS)[number]

// ---- checks on fields -----------------------------------------------------------------------

/** A message as received: fields of any value until checked. */
export type Fields = Record<string, unknown>

export const isObj = (x: unknown): x is Fields => typeof x === 'object' && x !== null
/** A name, id, token or lock: short, and never empty. */
export const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 256
export const isInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0
/** A duration a timer can wait: whole milliseconds, 1 to 2^31 - 1 (beyond, a timer fires at once). */
export const isDuration = (x: unknown): x is number => isInt(x) && x > 0 && x < 2 ** 31
/** A `Date.now()` as another runtime read it. */
export const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)
/** Why a storage was passed over: optional, and any text of a bounded length. */
export const isStorageReason = (x: unknown): x is string | undefined =>
  x === undefined || (typeof x === 'string' && x.length < 1000)
const HANDOFF_REASON_SET: ReadonlySet<unknown> = new Set(HANDOFF_REASONS)
/** A reason the app's events carry: only the ones it is told of, whoever sent the message. */
export const isHandoffReason = (x: unknown): x is HandoffReason => HANDOFF_REASON_SET.has(x)
const STORAGE_KIND_SET: ReadonlySet<unknown> = new Set(STORAGE_KINDS)
export const isStorage = (x: unknown): x is StorageKind => STORAGE_KIND_SET.has(x)
/** A line as it travels: a transferred port, or a channel line's name. */
export const isPort = (x: unknown): x is LineRef =>
  (typeof MessagePort !== 'undefined' && x instanceof MessagePort) || isLineName(x)

/** True if `data` is a control message at all (it has a type and a version), whatever the version. */
export function hasVersion(data: unknown): data is Fields & { t: string; v: number } {
  return isObj(data) && typeof data.t === 'string' && typeof data.v === 'number'
}

export function isCurrentVersion(data: { v: number }): boolean {
  return data.v === PROTOCOL_VERSION
}
