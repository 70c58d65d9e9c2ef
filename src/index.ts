export { MultiTabOpfsDialect } from './dialect/multi-tab-opfs-dialect.js'
export { StatementTimeoutPlugin } from './dialect/statement-timeout-plugin.js'
export { BrowserMigrationProvider, type Migration, type MigrationModule } from './dialect/migration-provider.js'
export type { MultiTabOpfsDialectConfig } from './dialect/options.js'
export type { TabStatus } from './client/tab-client.js'
export type { MetricsSnapshot, LatencySummary } from './client/tab-metrics.js'
export type { TablesChanged, TablesChangedListener } from './client/table-changes.js'
export type { WatchOptions, WatchableQuery } from './dialect/watch.js'
export type { MultiTabEvents, MultiTabEventName, MultiTabListener } from './client/tab-events.js'
export type { HandoffReason, StorageKind, StoragePreference } from './protocol/message-fields.js'
export type { WorkerStatus } from './protocol/own-worker-messages.js'
export type { DatabaseCheck, DatabaseStats } from './protocol/statement-messages.js'
export type { CoordinatorKind, CoordinatorMode } from './client/coordinator-link.js'
export type { HealthReport, StorageEstimateSummary } from './dialect/health-report.js'
export {
  MultiTabError,
  SqliteError,
  ActiveTabLostError,
  TransactionEndedError,
  WriteOutcomeUnknownError,
  LeaseTimeoutError,
  NoActiveTabError,
  StorageUnavailableError,
  HandoffError,
  ProtocolError,
  DatabaseClosedError,
} from './protocol/errors.js'
