/**
 * The browser APIs that the coordinator (SharedWorker or a tab's DedicatedWorker), a tab's
 * membership and coordinator watch (the page), and a tab worker's role (its lock, heartbeats and
 * freshness) use for locks and time, passed in so that their elections, bounds, take-overs and
 * hand-offs can be unit-tested with fakes (test/support/fake-env.ts). In a browser it is
 * {@link browserEnv}.
 */
export interface BrowserEnv {
  /** Tabs' lifetime locks (granted when a tab is gone), the role lock's holder, the take-over lock. */
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

/**
 * The browser's own. `locks` is read when used, so one made where there is no lock manager (a
 * test of the clock alone, under Node) serves what needs only the clock and timers.
 */
export function browserEnv(): BrowserEnv {
  return {
    get locks() {
      return navigator.locks
    },
    now: () => performance.now(),
    wallClock: () => Date.now(),
    setTimeout: (run, ms) => setTimeout(run, ms),
    clearTimeout: (timer) => clearTimeout(timer),
    setInterval: (run, ms) => setInterval(run, ms),
    clearInterval: (timer) => clearInterval(timer),
  }
}
