import type { BrowserDriver } from './driver.js'

/** The coordinators every scenario runs with: the option `coordinator` of the dialect. */
export const coordinators = ['shared-worker', 'web-locks'] as const
export type Coordinator = (typeof coordinators)[number]

/**
 * One thing users rely on, checked in a real browser. It opens its own database (a unique name),
 * so scenarios never see each other's data, and throws (node:assert) when the promise is broken.
 */
export interface Scenario {
  readonly name: string
  run(driver: BrowserDriver, coordinator: Coordinator): Promise<void>
}
