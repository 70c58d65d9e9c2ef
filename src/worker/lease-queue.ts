/**
 * The single SQLite connection, shared by every tab, handed out in leases.
 *
 * A lease is one Kysely connection scope of one tab (a transaction, `db.connection()`, or a
 * single query). Its first statement takes the lease; every statement of other leases waits in
 * arrival order until the holder releases it. So a transaction is pinned: no other tab's statement
 * can run inside it. Statements run one at a time, whoever holds the lease.
 *
 * A holder with nothing to run and no transaction open (`mayYield`) gives the connection up to
 * whoever waits, and takes it again with its next statement: outside a transaction, the
 * statements of one scope may interleave with others'. So independent queries of one tab (a
 * `Promise.all`) do not each wait for the previous one's release to come back from its tab.
 *
 * A holder that stays idle for `idleTimeoutMs` while others wait is revoked (its transaction
 * rolled back by `onRevoke`), and a tab that dies has its leases revoked at once, so one broken
 * tab cannot block the rest.
 *
 * A job's turn goes to the {@link JobRunner} the queue was made with: a statement goes from the
 * server through the queue to the runner, never back. Pure logic: no SQLite, no ports.
 */
import { IdleBound } from './idle-bound.js'
import { LeaseTask } from './lease-task.js'
import { RevokedLeases } from './revoked-leases.js'

/** A lease's identity: the owning tab and the tab's own lease number. */
export interface LeaseKey {
  readonly tabId: string
  readonly lease: number
}

/** Runs each job when its lease may, or tells it why it will not run. */
export interface JobRunner<J> {
  /** Done when it returns, or when the Promise it returns settles; it answers its caller itself. */
  run(job: J): Promise<void> | void
  /** The job will not run (its lease was revoked first), or `run` threw or rejected with `error`. */
  refuse(job: J, error: Error): void
}

export interface LeaseQueueOptions<J> {
  readonly runner: JobRunner<J>
  /** How long a holder may sit idle while others wait before it is revoked. */
  readonly idleTimeoutMs: number
  /** Called (as a queued step, before anyone else runs) when a lease is revoked while held. */
  readonly onRevoke: (lease: LeaseKey, reason: Error) => Promise<void> | void
  /** Makes the error a revoked lease's later statements fail with. */
  readonly timeoutError: (lease: LeaseKey, waiting: readonly LeaseKey[]) => Error
  /**
   * Called when the holder releases the lease; a step it returns runs before anyone else gets the
   * connection (e.g. rolling back a transaction the lease's scope left open).
   */
  readonly onRelease?: (lease: LeaseKey) => (() => Promise<void> | void) | undefined
  /** Whether an idle holder may give the connection to a waiting lease: no transaction is open. */
  readonly mayYield?: () => boolean
  /** Told how long a job waited, when it waited behind another lease for more than a millisecond. */
  readonly waited?: (ms: number) => void
}

const keyOf = (k: LeaseKey) => `${k.tabId}#${k.lease}`

export class LeaseQueue<J> {
  readonly #options: LeaseQueueOptions<J>
  #holder: (LeaseKey & { key: string }) | undefined
  #queue: LeaseTask<J>[] = []
  #running = false
  readonly #idle: IdleBound
  #granting = true
  readonly #revoked = new RevokedLeases()
  #idleWaiters: Array<() => void> = []

  constructor(options: LeaseQueueOptions<J>) {
    this.#options = options
    this.#idle = new IdleBound(options.idleTimeoutMs)
  }

  /** The lease that now owns the connection, if any. */
  get holder(): LeaseKey | undefined {
    return this.#holder && { tabId: this.#holder.tabId, lease: this.#holder.lease }
  }

  /** How many statements wait (for the lease or their turn). */
  get depth(): number {
    return this.#queue.length
  }

  /**
   * Queues `job` under `lease`: the runner runs it when the lease holds the connection (at once,
   * within this call, when nothing else does), or refuses it if the lease is revoked first. A run
   * that returns no Promise is done when it returns, and the next job may go at once. With
   * `endsLease`, the lease is released once the job has run.
   */
  enqueue(lease: LeaseKey, job: J, endsLease = false): void {
    const key = keyOf(lease)
    const task = LeaseTask.job(key, lease.tabId, lease.lease, job, endsLease)
    const revoked = this.#revoked.reasonFor(key)
    if (revoked) return this.#refuse(task, revoked)
    this.#queue.push(task)
    if (this.#holder && this.#holder.key !== key && this.#idle.expired && !this.#options.mayYield?.()) {
      this.#revokeHolder(this.#options.timeoutError(this.#holder, this.#queue))
    }
    this.#pump()
    // Usually it ran within pump(): the clock is read only for a job that waits.
    if (this.#options.waited && !task.started) task.queuedAt = performance.now()
  }

  /** The lease's scope ended (commit, rollback, or a single query done): the next may go. */
  release(lease: LeaseKey): void {
    const key = keyOf(lease)
    this.#revoked.forget(key)
    if (this.#holder?.key !== key) return
    const cleanup = this.#options.onRelease?.(lease)
    this.#setHolder(undefined)
    if (cleanup) this.#queue.unshift(LeaseTask.step(cleanup))
    this.#pump()
  }

  /**
   * The lease's tab stopped waiting for its queued statements: they are dropped unrun (and
   * unanswered), so none takes the connection after the tab has released the lease.
   */
  withdraw(lease: LeaseKey): void {
    const key = keyOf(lease)
    this.#queue = this.#queue.filter((task) => task.key !== key)
  }

  /**
   * Runs `run` (a step of the worker's own) after the statement running now, before anything
   * queued, whoever holds the lease: meant for when none does (at activation).
   */
  runNext(run: () => Promise<void> | void): void {
    this.#queue.unshift(LeaseTask.step(run))
    this.#pump()
  }

  /** The tab died: roll back what it held and forget what it queued. */
  revokeTab(tabId: string, reason: Error): void {
    this.#queue = this.#queue.filter((task) => {
      if (task.tabId !== tabId) return true
      this.#refuse(task, reason)
      return false
    })
    if (this.#holder?.tabId === tabId) this.#revokeHolder(reason)
  }

  /**
   * Lets the current holder finish but grants the connection to no one else (the worker is handing
   * the database over). Resolves once no lease is held, after `timeoutMs`, or once `cut()` says so.
   */
  async drain(timeoutMs: number, cut?: () => boolean): Promise<void> {
    this.#granting = false
    const deadline = Date.now() + timeoutMs
    // A holder with no transaction open has nothing to finish.
    const finished = () => !this.#running && (!this.#holder || this.#options.mayYield?.() === true)
    while (!finished() && Date.now() < deadline && !cut?.()) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /** Resolves once no statement is running (at once if none is). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /**
   * Fails everything queued and held (the worker is giving the database up, or starting over).
   * `then` runs next, after any statement already running: e.g. a rollback.
   */
  revokeAll(reason: Error, then?: () => Promise<void> | void): void {
    const queued = this.#queue
    this.#queue = []
    for (const task of queued) this.#refuse(task, reason)
    // Not remembered: the lease may start over (on this worker or the next).
    this.#setHolder(undefined)
    this.#granting = true
    if (then) {
      this.#queue.push(LeaseTask.step(then))
      this.#pump()
    }
  }

  #revokeHolder(reason: Error): void {
    const holder = this.#holder!
    this.#revoked.remember(holder.key, reason)
    this.#queue = this.#queue.filter((task) => {
      if (task.key !== holder.key) return true
      this.#refuse(task, reason)
      return false
    })
    this.#setHolder(undefined)
    // The rollback must run before any other lease's statement: put it first in line.
    this.#queue.unshift(LeaseTask.step(() => this.#options.onRevoke({ tabId: holder.tabId, lease: holder.lease }, reason)))
    this.#pump()
  }

  /** A runner's `refuse` that throws must not stop the queue (nor escape as an unhandled rejection). */
  #refuse(task: LeaseTask<J>, error: unknown): void {
    if (task.step !== undefined) return
    try {
      this.#options.runner.refuse(task.job as J, error as Error)
    } catch {
      // The runner's own failure; the queue moves on.
    }
  }

  #setHolder(holder: (LeaseKey & { key: string }) | undefined): void {
    this.#holder = holder
    this.#idle.busy()
  }

  #pump(): void {
    // A loop, not recursion: tasks that finish synchronously run back to back.
    while (!this.#running) {
      const index = this.#holder
        ? this.#queue.findIndex((t) => t.key === this.#holder!.key || t.key === '')
        : this.#granting
          ? 0
          : this.#queue.findIndex((t) => t.key === '')
      const task = this.#queue[index]
      if (index < 0 || !task) {
        if (this.#holder && this.#granting && this.#queue.length > 0 && this.#options.mayYield?.()) {
          this.#setHolder(undefined)
          continue
        }
        if (this.#holder) this.#idle.idle()
        this.#armIdleTimer()
        return
      }
      if (index === 0) this.#queue.shift()
      else this.#queue.splice(index, 1)
      if (!this.#holder && task.key !== '') this.#setHolder({ key: task.key, tabId: task.tabId, lease: task.lease })
      this.#idle.busy()
      task.started = true
      if (task.queuedAt >= 0) this.#waited(task.queuedAt)
      this.#running = true
      // Stays false if the run throws: then its lease does not end with it.
      let ran: Promise<void> | void | false = false
      try {
        ran = task.step === undefined ? this.#options.runner.run(task.job as J) : task.step()
      } catch (error) {
        this.#refuse(task, error)
      }
      if (ran) {
        ran.then(
          () => this.#done(task),
          (error: unknown) => {
            this.#refuse(task, error)
            this.#done(undefined)
          },
        )
        return
      }
      if (ran === undefined && task.endsLease) this.release(task)
      this.#running = false
    }
  }

  #waited(queuedAt: number): void {
    const ms = performance.now() - queuedAt
    if (ms > 1) this.#options.waited?.(ms)
  }

  /** `ran`'s job is done: its lease ends first if it said so. */
  #done(ran: LeaseTask<J> | undefined): void {
    if (ran?.endsLease) this.release(ran)
    this.#running = false
    this.#pump()
    if (!this.#running && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  #armIdleTimer(): void {
    // A holder with no transaction open is never revoked: it gives the connection up instead.
    if (!this.#holder || this.#idle.armed || this.#queue.length === 0 || this.#options.mayYield?.()) return
    const holder = this.#holder
    this.#idle.arm(() => {
      if (this.#holder === holder && this.#queue.length > 0) this.#revokeHolder(this.#options.timeoutError(holder, this.#queue))
    })
  }
}
