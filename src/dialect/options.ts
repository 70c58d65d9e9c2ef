import { STORAGE_PREFERENCES, type StoragePreference } from '../protocol/message-fields.js'

/** Options of {@link MultiTabOpfsDialect}. Only `filename` is required. */
export interface MultiTabOpfsDialectConfig {
  /**
   * The database's name: one OPFS directory, one set of locks and one coordinator per name.
   * 1-128 letters, digits, `_`, `-` or `.`.
   *
   * @example 'app.db'
   */
  readonly filename: string
  /**
   * URL of the tab worker script (`tab-worker.js` of this package), for when a bundler or a CDN
   * serves it from somewhere the default `new URL('./tab-worker.js', import.meta.url)` misses.
   */
  readonly workerUrl?: string | URL
  /**
   * URL of the coordinator script (`coordinator.js` of this package): run as the SharedWorker, or,
   * under the Web Locks coordinator, as a DedicatedWorker of the tab that hosts it.
   */
  readonly coordinatorUrl?: string | URL
  /**
   * URL of `wa-sqlite.wasm`; by default it is found next to the tab worker script. The storage
   * fallbacks (`opfs`, `idb`) load `wa-sqlite-async.wasm` from the same folder.
   */
  readonly wasmUrl?: string | URL
  /**
   * How long a tab may hold a transaction idle (one of Kysely's, or a `BEGIN` in a
   * `db.connection()` scope), with other tabs waiting, before it is rolled back and fails with
   * `LeaseTimeoutError`. Default 10 000 ms.
   */
  readonly leaseTimeoutMs?: number
  /**
   * How long the active tab's worker may go without a heartbeat before it is declared hung and
   * another tab takes over. The worker heartbeats while SQLite runs a statement, so a long
   * statement is not a hang; a frozen tab or a stuck worker is. Default 4 000 ms.
   */
  readonly hangTimeoutMs?: number
  /**
   * The role follows the user: once the active tab has been in the background this long while
   * another tab of the database is visible, the role moves to that tab (the one shown last).
   * Browsers freeze background tabs, and outside Chromium a frozen active tab keeps the files
   * from every other tab until it is resumed (see the README, Background tabs). The wait keeps a
   * quick look at another tab from moving the role there and back. `false`: the role never moves
   * for this (a tab that must keep it, e.g. one that plays media and is never frozen). The active
   * tab's value applies. Default 2 000 ms.
   *
   * @example
   * ```ts
   * new MultiTabOpfsDialect({ filename: 'app.db', hiddenHandoffMs: false })
   * ```
   */
  readonly hiddenHandoffMs?: number | false
  /**
   * How long a query may wait for a tab to serve the database (at start-up, or during a
   * hand-off) before it fails with `NoActiveTabError`, and how old a query may be, hand-offs
   * included, and still be sent again to the next active tab. Default 15 000 ms.
   */
  readonly requestTimeoutMs?: number
  /**
   * A query whose statements are still running after this long is interrupted and fails with
   * `SqliteError` `SQLITE_INTERRUPT` (not retryable): a runaway statement (a recursive CTE with no
   * bound, a cross join) ends, and the tabs waiting behind it are served. A long statement within
   * the limit is fine: the active worker heartbeats while SQLite runs. The library's own file
   * operations (`exportDatabase`, `importDatabase`, `deleteDatabase`, `health`) have no limit.
   * The active tab's value applies: use one value for every tab. Default 60 000 ms.
   *
   * @example
   * ```ts
   * new MultiTabOpfsDialect({ filename: 'app.db', statementTimeoutMs: 5_000 })
   * ```
   */
  readonly statementTimeoutMs?: number
  /**
   * How many times an elected tab tries to open the OPFS files while the previous holder has not
   * released them yet, with a growing delay, before it gives up (`HandoffError`, to the
   * coordinator, which elects again; queries keep waiting up to `requestTimeoutMs`). Default 20.
   */
  readonly openAttempts?: number
  /** The first delay between those attempts; each next one is this much longer. Default 25 ms. */
  readonly openRetryDelayMs?: number
  /**
   * How tabs find each other. `shared-worker`: a SharedWorker elects the active tab and brokers
   * MessagePorts to it (fastest). `web-locks`: no SharedWorker; one tab hosts the coordinator in
   * a worker of its own, found through a BroadcastChannel, and the tabs' lines to the active tab
   * are BroadcastChannels. `auto` (default): the SharedWorker, or Web Locks when it is missing,
   * fails to load or does not answer within 4 s. Tabs of one database always meet one coordinator:
   * a tab that forces `shared-worker` while a Web Locks coordinator serves joins that one.
   * `dialect.status().coordinator` says which is in use.
   *
   * @example
   * ```ts
   * new MultiTabOpfsDialect({ filename: 'app.db', coordinator: 'web-locks' })
   * ```
   */
  readonly coordinator?: 'auto' | 'shared-worker' | 'web-locks'
  /**
   * Where the database lives. `auto` (default) takes the best this browser offers:
   * `opfs-sahpool` (OPFS synchronous access handles: the fast one), else `opfs` (OPFS written
   * with `createWritable()`; slower, and the database is held in memory while open), else `idb`
   * (IndexedDB; no whole-file export/import), else `memory`: nothing persists, and each hand-off
   * starts an empty database. A fallback fires the `fallback` event, and `memory` also warns on
   * the console and sets `status().degraded`. Forcing a storage the browser lacks fails with
   * `StorageUnavailableError`. Every tab of a database should use the same value.
   *
   * @example
   * ```ts
   * const dialect = new MultiTabOpfsDialect({ filename: 'app.db' })
   * dialect.on('fallback', ({ what, chosen, degraded }) => {
   *   if (degraded) showBanner(`Changes will not be saved (${what}: ${chosen})`)
   * })
   * ```
   */
  readonly storage?: StoragePreference
  /**
   * Ask the browser to keep this origin's storage even under storage pressure
   * (`navigator.storage.persist()`); the answer is in `dialect.health().persisted`. Default false.
   */
  readonly persistentStorage?: boolean
  /**
   * Keep a warm standby: the tab next in line for the active role loads SQLite's wasm and runs it
   * once on an in-memory database ahead of time, so that when the active tab closes or crashes it
   * only has to open the files (a failover about twice as fast; see docs/benchmarks.md). It
   * costs that one tab the wasm's memory (a few MB) and a download it might never need; other
   * followers still load no wasm. Default false.
   *
   * @example
   * ```ts
   * new MultiTabOpfsDialect({ filename: 'app.db', warmStandby: true })
   * ```
   */
  readonly warmStandby?: boolean
  /**
   * SQL that every tab's worker runs on its fresh connection each time it becomes the active tab,
   * before it serves any statement: the connection settings your app relies on. Each holder opens
   * its own connection, so a `PRAGMA foreign_keys = ON` your app ran once holds only until the
   * next hand-off; put it here instead. A statement that fails (or leaves a transaction open)
   * keeps that tab from serving, and when no tab can, queries fail with its `SqliteError`. Every
   * tab of a database should use the same value. Default `[]` (SQLite's defaults: foreign keys
   * off).
   *
   * @example
   * ```ts
   * new MultiTabOpfsDialect({
   *   filename: 'app.db',
   *   connectionSetup: ['pragma foreign_keys = on', 'pragma recursive_triggers = on'],
   * })
   * ```
   */
  readonly connectionSetup?: readonly string[]
  /**
   * Log routing, elections, hand-offs and dropped (malformed) messages: `true` to console.debug
   * (the tab's worker logs there too), or a function of yours.
   *
   * @example
   * ```ts
   * new MultiTabOpfsDialect({ filename: 'app.db', debug: true })
   * ```
   */
  readonly debug?: boolean | ((event: string, details?: Record<string, unknown>) => void)
}

type Optional = 'workerUrl' | 'coordinatorUrl' | 'wasmUrl' | 'debug'
export type ResolvedConfig = Required<Omit<MultiTabOpfsDialectConfig, Optional>> & Pick<MultiTabOpfsDialectConfig, Optional>

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`)
  return value
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value))
    throw new TypeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`)
  return value
}

/**
 * A positive duration, in whole milliseconds: every tab and worker exchanges these as integers
 * (the protocol's validation drops a message with `2.2 * 1000` in it).
 */
export function milliseconds(name: string, value: number | undefined, fallback: number): number {
  const ms = Math.max(1, Math.round(positive(name, value, fallback)))
  // Beyond this, browsers fire a timer at once rather than never.
  if (ms > MAX_TIMER_MS) throw new RangeError(`${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${value}`)
  return ms
}

const MAX_TIMER_MS = 2 ** 31 - 1

/** `milliseconds`, or 0 (at once), or false (never). */
function millisecondsOrNever(name: string, value: number | false | undefined, fallback: number): number | false {
  if (value === false || value === 0) return value
  return milliseconds(name, value, fallback)
}

function statements(name: string, value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return Object.freeze([])
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s.trim() !== '')) {
    throw new TypeError(`${name} must be an array of SQL strings, got ${JSON.stringify(value)}`)
  }
  return Object.freeze([...value])
}

export function resolveConfig(config: MultiTabOpfsDialectConfig): Readonly<ResolvedConfig> {
  return Object.freeze({
    filename: config.filename,
    workerUrl: config.workerUrl,
    coordinatorUrl: config.coordinatorUrl,
    wasmUrl: config.wasmUrl,
    debug: config.debug,
    leaseTimeoutMs: milliseconds('leaseTimeoutMs', config.leaseTimeoutMs, 10_000),
    requestTimeoutMs: milliseconds('requestTimeoutMs', config.requestTimeoutMs, 15_000),
    hangTimeoutMs: milliseconds('hangTimeoutMs', config.hangTimeoutMs, 4_000),
    hiddenHandoffMs: millisecondsOrNever('hiddenHandoffMs', config.hiddenHandoffMs, 2_000),
    statementTimeoutMs: milliseconds('statementTimeoutMs', config.statementTimeoutMs, 60_000),
    openAttempts: Math.max(1, Math.round(positive('openAttempts', config.openAttempts, 20))),
    openRetryDelayMs: milliseconds('openRetryDelayMs', config.openRetryDelayMs, 25),
    persistentStorage: config.persistentStorage === true,
    warmStandby: config.warmStandby === true,
    connectionSetup: statements('connectionSetup', config.connectionSetup),
    storage: oneOf('storage', config.storage, STORAGE_PREFERENCES, 'auto'),
    coordinator: oneOf('coordinator', config.coordinator, ['auto', 'shared-worker', 'web-locks'] as const, 'auto'),
  })
}
