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
 * tab cannot block the rest. Pure logic: no SQLite, no ports; the worker supplies the callbacks.
 */

/** A lease's identity: the owning tab and the tab's own lease number. */
export interface LeaseKey {
  readonly tabId: string
  readonly lease: number
}

interface Task {
  readonly key: string
  readonly tabId: string
  readonly lease: number
  readonly run: () => Promise<void> | void
  readonly reject: (error: Error) => void
}

export interface LeaseQueueOptions {
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
}

const keyOf = (k: LeaseKey) => `${k.tabId}#${k.lease}`
const REVOKED_MEMORY = 1024

/** A step of the worker's own: no lease, so it runs whoever holds the connection next. */
function step(run: () => Promise<void> | void): Task {
  return { key: '', tabId: '', lease: 0, run, reject: () => {} }
}

/** A caller's `reject` that throws must not stop the queue (nor escape as an unhandled rejection). */
function rejectQuietly(task: Task, error: unknown): void {
  try {
    task.reject(error as Error)
  } catch {
    // The caller's own failure; the queue moves on.
  }
}

export class LeaseQueue {
  readonly #options: LeaseQueueOptions
  #holder: (LeaseKey & { key: string }) | undefined
  #queue: Task[] = []
  #running = false
  /**
   * Armed only while the holder is idle AND someone waits: a timer per statement would cost more
   * than the statement on the hot path. `#idleSince` (a number) is all an idle holder costs.
   */
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  #idleSince: number | undefined
  #granting = true
  readonly #revoked = new Map<string, Error>()
  #idleWaiters: Array<() => void> = []

  constructor(options: LeaseQueueOptions) {
    this.#options = options
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
   * Queues `run` under `lease`. Resolves when it has run (its own errors are its own business:
   * `run` should reply to its caller itself); rejects if the lease was revoked first.
   */
  submit(lease: LeaseKey, run: () => Promise<void> | void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.enqueue(
        lease,
        () => {
          const ran = run()
          if (!ran) return resolve()
          return ran.then(resolve)
        },
        reject,
      )
    })
  }

  /**
   * `submit` without a Promise of its own (the worker's hot path): `reject` is called if the lease
   * is revoked before `run` runs, or if `run` throws or rejects. A `run` that returns nothing
   * (no Promise) is done when it returns, and the next statement may go at once.
   */
  enqueue(lease: LeaseKey, run: () => Promise<void> | void, reject: (error: Error) => void): void {
    const key = keyOf(lease)
    // Usually none is remembered: skip hashing the key then (this is per statement).
    const revoked = this.#revoked.size > 0 ? this.#revoked.get(key) : undefined
    if (revoked) {
      reject(revoked)
      return
    }
    this.#queue.push({ key, tabId: lease.tabId, lease: lease.lease, run, reject })
    if (
      this.#holder &&
      this.#holder.key !== key &&
      this.#idleFor() >= this.#options.idleTimeoutMs &&
      !this.#options.mayYield?.()
    ) {
      this.#revokeHolder(this.#options.timeoutError(this.#holder, this.#queue))
    }
    this.#pump()
  }

  /** The lease's scope ended (commit, rollback, or a single query done): the next may go. */
  release(lease: LeaseKey): void {
    const key = keyOf(lease)
    if (this.#revoked.size > 0) this.#revoked.delete(key)
    if (this.#holder?.key !== key) return
    const cleanup = this.#options.onRelease?.(lease)
    this.#setHolder(undefined)
    if (cleanup) this.#queue.unshift(step(cleanup))
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
    this.#queue.unshift(step(run))
    this.#pump()
  }

  /** The tab died: roll back what it held and forget what it queued. */
  revokeTab(tabId: string, reason: Error): void {
    this.#queue = this.#queue.filter((task) => {
      if (task.tabId !== tabId) return true
      task.reject(reason)
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
    for (const task of queued) task.reject(reason)
    // Not remembered: the lease may start over (on this worker or the next).
    this.#setHolder(undefined)
    this.#granting = true
    if (then) {
      this.#queue.push(step(then))
      this.#pump()
    }
  }

  #revokeHolder(reason: Error): void {
    const holder = this.#holder!
    this.#remember(holder.key, reason)
    this.#queue = this.#queue.filter((task) => {
      if (task.key !== holder.key) return true
      task.reject(reason)
      return false
    })
    this.#setHolder(undefined)
    // The rollback must run before any other lease's statement: put it first in line.
    this.#queue.unshift(step(() => this.#options.onRevoke({ tabId: holder.tabId, lease: holder.lease }, reason)))
    this.#pump()
  }

  #remember(key: string, reason: Error): void {
    this.#revoked.set(key, reason)
    if (this.#revoked.size > REVOKED_MEMORY) {
      this.#revoked.delete(this.#revoked.keys().next().value as string)
    }
  }

  #setHolder(holder: (LeaseKey & { key: string }) | undefined): void {
    this.#holder = holder
    this.#busy()
  }

  /** The holder is running something: not idle. */
  #busy(): void {
    this.#idleSince = undefined
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer)
      this.#idleTimer = undefined
    }
  }

  #idleFor(): number {
    return this.#idleSince === undefined ? 0 : Date.now() - this.#idleSince
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
        if (this.#holder) this.#idleSince ??= Date.now()
        this.#armIdleTimer()
        return
      }
      if (index === 0) this.#queue.shift()
      else this.#queue.splice(index, 1)
      if (!this.#holder && task.key !== '') this.#setHolder({ key: task.key, tabId: task.tabId, lease: task.lease })
      this.#busy()
      this.#running = true
      let ran: Promise<void> | void = undefined
      try {
        ran = task.run()
      } catch (error) {
        rejectQuietly(task, error)
      }
      if (ran) {
        ran.then(
          () => this.#done(),
          (error: unknown) => {
            rejectQuietly(task, error)
            this.#done()
          },
        )
        return
      }
      this.#running = false
    }
  }

  #done(): void {
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
    if (!this.#holder || this.#idleTimer !== undefined || this.#queue.length === 0 || this.#options.mayYield?.()) return
    const holder = this.#holder
    this.#idleTimer = setTimeout(
      () => {
        this.#idleTimer = undefined
        if (this.#holder === holder && this.#queue.length > 0) this.#revokeHolder(this.#options.timeoutError(holder, this.#queue))
      },
      Math.max(0, this.#options.idleTimeoutMs - this.#idleFor()),
    )
  }
}
