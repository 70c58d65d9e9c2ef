// The core scenarios every engine runs, each once per coordinator.
import { backgroundScenarios } from './background.js'
import { failoverScenarios } from './failover.js'
import { migrationScenarios } from './migrations.js'
import { multiTabScenarios } from './multi-tab.js'
import { persistenceScenarios } from './persistence.js'
import type { Scenario } from './scenario.js'

export type { BrowserDriver, BrowserTab } from './driver.js'
export { coordinators, scenariosFor, type Coordinator, type Scenario } from './scenario.js'

export const scenarios: readonly Scenario[] = [
  ...multiTabScenarios,
  ...failoverScenarios,
  ...migrationScenarios,
  ...persistenceScenarios,
]

/** Scenarios that hide a tab: for drivers that can (BrowserTab.setHidden). */
export const hidingScenarios: readonly Scenario[] = backgroundScenarios
