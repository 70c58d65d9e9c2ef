import { LeaseQueue, type LeaseKey, type LeaseQueueOptions } from '../../src/worker/lease-queue.js'

/** A job that carries its own run and refusal: how a test sees when, and whether, the queue runs it. */
export interface ClosureJob {
  readonly run: () => Promise<void> | void
  readonly reject: (error: Error) => void
}

/** A lease queue of closures. */
export class ClosureQueue extends LeaseQueue<ClosureJob> {
  constructor(options: Omit<LeaseQueueOptions<ClosureJob>, 'runner'>) {
    super({ ...options, runner: { run: (job) => job.run(), refuse: (job, error) => job.reject(error) } })
  }

  /** Queues `run`; `reject` hears a refusal, or the error `run` threw or rejected with. */
  enqueueRun(lease: LeaseKey, run: () => Promise<void> | void, reject: (error: Error) => void, endsLease = false): void {
    this.enqueue(lease, { run, reject }, endsLease)
  }

  /** Resolves when `run` has run; rejects if the lease was revoked first, or if `run` failed. */
  submit(lease: LeaseKey, run: () => Promise<void> | void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const job = () => {
        const ran = run()
        if (!ran) return resolve()
        return ran.then(resolve)
      }
      this.enqueueRun(lease, job, reject)
    })
  }
}
