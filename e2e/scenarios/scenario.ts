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
  /** The one coordinator the scenario is about (it runs with no other); absent: each of them. */
  readonly only?: Coordinator
  run(driver: BrowserDriver, coordinator: Coordinator): Promise<void>
}

/** The scenarios of `list` that run with `coordinator`. */
export function scenariosFor(list: readonly Scenario[], coordinator: Coordinator): Scenario[] {
  return list.filter((scenario) => !scenario.only || scenario.only === coordinator)
}

/**
 * Runs one part of a scenario; a failure names the part. (Parts share the scenario's tabs: in
 * every engine, opening a tab of the harness costs seconds, loading Kysely's modules one by one.)
 */
export async function step(name: string, part: () => Promise<void>): Promise<void> {
  try {
    await part()
  } catch (error) {
    if (error instanceof Error) {
      // The stack was written with the message at construction: name the part in both.
      const message = `${name}: ${error.message}`
      error.stack = error.stack?.replace(error.message, message)
      error.message = message
    }
    throw error
  }
}
