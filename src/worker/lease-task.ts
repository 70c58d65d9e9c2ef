/**
 * What the lease queue holds: a job queued under its lease, or a step of the worker's own, which
 * holds no lease and runs whoever holds the connection next (a rollback, a task of activation).
 */
export class LeaseTask<J> {
  /** The lease's `tabId#lease`, or '' for a step. */
  readonly key: string
  readonly tabId: string
  readonly lease: number
  readonly job: J | undefined
  readonly step: (() => Promise<void> | void) | undefined
  /** The lease ends once this job has run (as if its tab had released it). */
  readonly endsLease: boolean
  /** When it was queued behind another lease, or -1 while it has not waited. */
  queuedAt = -1
  /** Taken off the queue to run. */
  started = false

  private constructor(
    key: string,
    tabId: string,
    lease: number,
    job: J | undefined,
    step: (() => Promise<void> | void) | undefined,
    endsLease: boolean,
  ) {
    this.key = key
    this.tabId = tabId
    this.lease = lease
    this.job = job
    this.step = step
    this.endsLease = endsLease
  }

  static job<J>(key: string, tabId: string, lease: number, job: J, endsLease: boolean): LeaseTask<J> {
    return new LeaseTask(key, tabId, lease, job, undefined, endsLease)
  }

  static step<J>(run: () => Promise<void> | void): LeaseTask<J> {
    return new LeaseTask<J>('', '', 0, undefined, run, false)
  }
}
