/**
 * What {@link MultiTabOpfsDialect.health} reports, and how it is put together: this tab's status,
 * a round trip to the active worker with `PRAGMA quick_check`, the worker's heartbeat, and the
 * origin's storage. Only the dialect calls these, once a Kysely instance has started its driver.
 */
import type { TabClient, TabStatus } from '../client/tab-client.js'
import type { DatabaseCheck } from '../protocol/statement-messages.js'

/** The origin's storage use and quota (`navigator.storage.estimate()`), in bytes. */
export interface StorageEstimateSummary {
  readonly usage: number
  readonly quota: number
}

/** What {@link MultiTabOpfsDialect.health} reports. */
export interface HealthReport extends TabStatus {
  /** Round trip of the check to the active worker, ms. */
  readonly roundTripMs: number
  /** `PRAGMA quick_check` ('ok' when healthy) and the file's size. */
  readonly database: DatabaseCheck
  /** Since the active worker's last acknowledged heartbeat, ms. */
  readonly sinceHeartbeatMs: number
  /** Whether storage is persistent (see the `persistentStorage` option). */
  readonly persisted: boolean | undefined
  readonly storageEstimate: StorageEstimateSummary | undefined
}

/** The origin's storage use and quota; undefined where the browser does not say. */
export async function storageEstimate(): Promise<StorageEstimateSummary | undefined> {
  const e = await navigator.storage?.estimate?.().catch(() => undefined)
  return e ? { usage: e.usage ?? 0, quota: e.quota ?? 0 } : undefined
}

/** Checks the shared database from `client`'s tab (see {@link MultiTabOpfsDialect.health}). */
export async function healthReport(client: TabClient): Promise<HealthReport> {
  await client.start()
  const status = await client.status()
  const started = performance.now()
  const { check } = await client.admin('check')
  const roundTripMs = performance.now() - started
  const { stats } = await client.admin('stats')
  return {
    ...status,
    roundTripMs,
    database: check!,
    sinceHeartbeatMs: stats!.sinceHeartbeatMs,
    persisted: client.persisted,
    storageEstimate: await storageEstimate(),
  }
}
