/**
 * The browser APIs the coordinator uses, passed in so that its elections, bounds and hand-offs can
 * be unit-tested with fakes (test/coordinator.test.ts). In a browser it is {@link browserEnv}.
 */
export interface CoordinatorEnv {
  /** Tabs' lifetime locks (granted when a tab is gone) and the role lock's holder. */
  readonly locks: Pick<LockManager, 'request' | 'query'>
  /** A monotonic clock, for bounds within this runtime. */
  now(): number
  /** The wall clock, for what is compared with other runtimes (a tab's `since`, an `activate`'s `at`). */
  wallClock(): number
  setTimeout(run: () => void, ms: number): ReturnType<typeof setTimeout>
  clearTimeout(timer: ReturnType<typeof setTimeout> | undefined): void
  setInterval(run: () => void, ms: number): ReturnType<typeof setInterval>
  clearInterval(timer: ReturnType<typeof setInterval> | undefined): void
}

export function browserEnv(): CoordinatorEnv {
  return {
    locks: navigator.locks,
    now: () => performance.now(),
    wallClock: () => Date.now(),
    setTimeout: (run, ms) => setTimeout(run, ms),
    clearTimeout: (timer) => clearTimeout(timer),
    setInterval: (run, ms) => setInterval(run, ms),
    clearInterval: (timer) => clearInterval(timer),
  }
}
