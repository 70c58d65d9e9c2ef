/**
 * Every error this library throws, and how errors cross a thread boundary.
 *
 * Workers can only post plain data, and two peers of ours lose the SQLite code on the way (they
 * post `{ message }`). Here an error travels as a {@link SerializedError} and is rebuilt as the
 * same class on the caller's side, with the caller's stack appended so a failing query points at
 * the line of app code that awaited it.
 */
import { isStorageFailure, sqliteCodeName } from './sqlite-codes.js'

/** Base class of every error this library throws. */
export abstract class MultiTabError extends Error {
  /** Whether the same call, made again, can succeed (after a hand-off, a lease ends, ...). */
  abstract readonly retryable: boolean
}

/**
 * SQLite rejected a statement. `code` is the extended result code's name, as better-sqlite3 and
 * node:sqlite report it; `resultCode` its number.
 *
 * @example
 * ```ts
 * try {
 *   await db.insertInto('person').values({ id: 1 }).execute()
 * } catch (e) {
 *   if (e instanceof SqliteError && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') showAlreadyExists()
 *   else throw e
 * }
 * ```
 */
export class SqliteError extends MultiTabError {
  override readonly name = 'SqliteError'
  /** The extended result code's name, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
  readonly code: string
  /** The extended result code, e.g. 2067. */
  readonly resultCode: number
  /** The primary result code (`resultCode & 0xff`), e.g. 19 for any constraint failure. */
  readonly primaryResultCode: number
  /** Only SQLITE_BUSY and SQLITE_LOCKED can clear up by themselves. */
  readonly retryable: boolean

  constructor(message: string, resultCode: number) {
    super(message)
    this.resultCode = resultCode
    this.primaryResultCode = resultCode & 0xff
    this.code = sqliteCodeName(resultCode)
    this.retryable = this.primaryResultCode === 5 || this.primaryResultCode === 6
  }

  /** True when the storage is at fault (I/O error, corrupt file, disk full): retrying will not help. */
  get isStorageFailure(): boolean {
    return isStorageFailure(this.resultCode)
  }
}

/**
 * The active tab went away (closed, crashed, hung or handed off) while this request was in flight
 * or while this transaction was open. A transaction that fails with it was rolled back entirely;
 * run it again.
 */
export class ActiveTabLostError extends MultiTabError {
  override readonly name = 'ActiveTabLostError'
  /** Not retryable for a query that was not sent again because it may be what brought the active tabs down. */
  readonly retryable: boolean

  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message)
    this.retryable = options.retryable ?? true
  }
}

/**
 * A write was sent and its answer will not come, and it cannot be proven whether it was applied:
 * raw SQL that SQLite says cannot be recorded with the write (several statements, transaction
 * control, ATTACH/DETACH, a PRAGMA that sets something) caught by a hand-off; a write caught by a
 * hand-off when no tab took over within `requestTimeoutMs` to settle it, or not sent again after
 * losing several active tabs; `importDatabase` or `deleteDatabase` caught by a hand-off; a write
 * in flight when this tab's Kysely was destroyed.
 * Check the data before running it again. See README, "Failover".
 */
export class WriteOutcomeUnknownError extends MultiTabError {
  override readonly name = 'WriteOutcomeUnknownError'
  readonly retryable = false
}

/**
 * This tab held a transaction or connection scope idle for longer than `leaseTimeoutMs` while
 * others waited; it was rolled back. Not retryable when what waited was a query of the same tab
 * sent outside the scope (through `db` inside `db.transaction()`, or inside a migration): the
 * scope was waiting for it, and a retry would wait the same way.
 */
export class LeaseTimeoutError extends MultiTabError {
  override readonly name = 'LeaseTimeoutError'
  readonly retryable: boolean

  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message)
    this.retryable = options.retryable ?? true
  }
}

/**
 * SQLite ended this transaction itself: one of its statements failed in a way that rolls the whole
 * transaction back (an `INSERT OR ROLLBACK` conflict, `RAISE(ROLLBACK)` in a trigger, a full
 * disk, an interrupted write), and the app went on. None of the transaction is in the database;
 * its later statements fail with this error instead of running one by one outside any
 * transaction. Run the whole transaction again.
 */
export class TransactionEndedError extends MultiTabError {
  override readonly name = 'TransactionEndedError'
  readonly retryable = true
}

/** No tab could serve the database within `requestTimeoutMs` (none could open it, or it kept changing). */
export class NoActiveTabError extends MultiTabError {
  override readonly name = 'NoActiveTabError'
  readonly retryable = true
}

/** The browser lacks what the storage needs (OPFS, sync access handles, Web Locks), or refused it. */
export class StorageUnavailableError extends MultiTabError {
  override readonly name = 'StorageUnavailableError'
  readonly retryable = false
}

/**
 * An elected tab could not take the database over: the OPFS files stayed busy past `openAttempts`.
 * It reaches the coordinator, which elects again until a tab manages (see the debug log); a
 * query waiting meanwhile fails with `NoActiveTabError` after `requestTimeoutMs`.
 */
export class HandoffError extends MultiTabError {
  override readonly name = 'HandoffError'
  readonly retryable = true
}

/** A malformed message, or a tab speaking another protocol version (reload the page after an upgrade). */
export class ProtocolError extends MultiTabError {
  override readonly name = 'ProtocolError'
  readonly retryable = false
}

/** The Kysely instance was destroyed; make a new one. */
export class DatabaseClosedError extends MultiTabError {
  override readonly name = 'DatabaseClosedError'
  readonly retryable = false
}

/** What every call fails with once this tab's Kysely was destroyed. */
export function destroyedError(): DatabaseClosedError {
  return new DatabaseClosedError('The database was closed (Kysely.destroy())')
}

const classes = {
  ActiveTabLostError,
  TransactionEndedError,
  WriteOutcomeUnknownError,
  LeaseTimeoutError,
  NoActiveTabError,
  StorageUnavailableError,
  HandoffError,
  ProtocolError,
  DatabaseClosedError,
} as const

/** How an error crosses a thread boundary. */
export interface SerializedError {
  readonly name: string
  readonly message: string
  /** SQLite result code, for `SqliteError`. */
  readonly resultCode?: number
  /** The stack where the error was made (in the worker). */
  readonly stack?: string
  /** Set when it differs from the class's usual answer (a LeaseTimeoutError or ActiveTabLostError that is not retryable). */
  readonly retryable?: false
}

/** Turns anything thrown into plain data that postMessage can carry. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    // wa-sqlite's own SQLiteError carries the numeric code as `code`; a DOMException's numeric
    // `code` is a legacy DOM code (AbortError's is 20), not SQLite's.
    const isDom = typeof DOMException !== 'undefined' && error instanceof DOMException
    const resultCode = error instanceof SqliteError ? error.resultCode : typeof code === 'number' && !isDom ? code : undefined
    const name = resultCode !== undefined ? 'SqliteError' : error.name
    const serialized: SerializedError = { name, message: error.message, resultCode, stack: error.stack }
    const unusual = (error instanceof LeaseTimeoutError || error instanceof ActiveTabLostError) && !error.retryable
    return unusual ? { ...serialized, retryable: false } : serialized
  }
  return { name: 'Error', message: String(error) }
}

/** Rebuilds an error posted by another thread as the class it was, with the other thread's stack. */
export function deserializeError(data: SerializedError): Error {
  let error: Error
  if (data.name === 'SqliteError' && typeof data.resultCode === 'number') {
    error = new SqliteError(data.message, data.resultCode)
  } else if (data.name === 'TypeError') {
    error = new TypeError(data.message)
  } else if (data.name === 'RangeError') {
    error = new RangeError(data.message)
  } else if (data.name === 'LeaseTimeoutError' || data.name === 'ActiveTabLostError') {
    const Class = data.name === 'LeaseTimeoutError' ? LeaseTimeoutError : ActiveTabLostError
    error = new Class(data.message, { retryable: data.retryable !== false })
  } else {
    const Class = classes[data.name as keyof typeof classes]
    error = Class ? new Class(data.message) : Object.assign(new Error(data.message), { name: data.name })
  }
  error.stack = `${error.name}: ${error.message}\n${data.stack?.split('\n').slice(1).join('\n') ?? ''}`
  return error
}

/** Errors whose stack already has a caller's frames. */
const extended = new WeakSet<Error>()

/**
 * Appends the frames of `caller` (an Error made in the async function that awaited the failed
 * request) to `error`'s stack, so the trace reaches the app's code; returns `error`. Once per
 * error: one error object may fail many requests (a closed database), and its stack must not
 * grow with each. Anything not an Error is returned as is.
 */
export function appendCallerStack(error: unknown, caller: Error): unknown {
  if (!(error instanceof Error) || extended.has(error)) return error
  const frames = caller.stack?.split('\n').slice(1).join('\n')
  if (!frames) return error
  error.stack = `${error.stack ?? `${error.name}: ${error.message}`}\n${frames}`
  extended.add(error)
  return error
}
