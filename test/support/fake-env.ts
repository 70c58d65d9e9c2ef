// Fake browser APIs for a BrowserEnv: a manual clock whose timers run only when the test moves it,
// and exclusive Web Locks kept in memory.
import type { BrowserEnv } from '../../src/protocol/browser-env.js'

/** Timers that run only when the test moves the clock. */
export class ManualClock {
  now = 0
  #timers = new Map<number, { at: number; run: () => void; every?: number }>()
  #next = 1

  setTimeout = (run: () => void, ms: number) => this.#add(run, ms) as unknown as ReturnType<typeof setTimeout>
  setInterval = (run: () => void, ms: number) => this.#add(run, ms, ms) as unknown as ReturnType<typeof setInterval>
  clear = (timer: unknown) => void this.#timers.delete(timer as number)

  /** Timers set and not yet run (one-shot) or cleared. */
  get pending(): number {
    return this.#timers.size
  }

  #add(run: () => void, ms: number, every?: number): number {
    const id = this.#next++
    this.#timers.set(id, { at: this.now + Math.max(0, ms), run, every })
    return id
  }

  /** Moves the clock by `ms`, running each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort(([, a], [, b]) => a.at - b.at)[0]
      if (!due) break
      const [id, timer] = due
      this.now = timer.at
      if (timer.every) timer.at += Math.max(1, timer.every)
      else this.#timers.delete(id)
      timer.run()
    }
    this.now = end
  }
}

interface Request {
  grant(): void
  /** Another request stole the lock while this one held it. */
  stolen(): void
}

/**
 * Exclusive Web Locks in memory: each name is granted to one request at a time, in order. As in a
 * browser, `ifAvailable` calls back with `null` at once when the name is held or queued for, and
 * `steal` is granted at once, the holder's request failing with an AbortError while its callback
 * runs on; requests queued behind it stay queued. A `signal` aborted while its request is queued
 * withdraws it, the request failing with the signal's reason (an AbortError); once granted, the
 * signal does nothing. Not modelled, as nothing tested with it uses them: `mode: 'shared'` (taken
 * as exclusive), and the order of a released request's promise and the next grant.
 */
export class FakeLocks {
  readonly #queues = new Map<string, Request[]>()

  request(name: string, ...rest: unknown[]): Promise<unknown> {
    const callback = rest[rest.length - 1] as (lock: Lock | null) => unknown
    const options = (rest.length > 1 ? rest[0] : {}) as LockOptions
    const queue = this.#queues.get(name) ?? []
    this.#queues.set(name, queue)
    if (options.ifAvailable && queue.length > 0) return Promise.resolve().then(() => callback(null))
    return new Promise((resolve, reject) => {
      const request: Request = {
        grant: () => {
          Promise.resolve()
            .then(() => callback({ name, mode: 'exclusive' }))
            .then(resolve, reject)
            .finally(() => {
              // A stolen request left the queue when it was stolen.
              if (queue[0] !== request) return
              queue.shift()
              queue[0]?.grant()
            })
        },
        stolen: () => reject(new DOMException(`the lock ${name} was stolen`, 'AbortError')),
      }
      if (options.steal) {
        if (queue.length > 0) queue.shift()!.stolen()
        queue.unshift(request)
        request.grant()
        return
      }
      const signal = options.signal
      if (signal?.aborted) return reject(signal.reason)
      signal?.addEventListener('abort', () => {
        const at = queue.indexOf(request)
        if (at < 1) return
        queue.splice(at, 1)
        reject(signal.reason)
      })
      queue.push(request)
      if (queue.length === 1) request.grant()
    })
  }

  async query(): Promise<LockManagerSnapshot> {
    const held = [...this.#queues].filter(([, q]) => q.length > 0).map(([name]) => ({ name, mode: 'exclusive' as const }))
    const pending = [...this.#queues].flatMap(([name, q]) => q.slice(1).map(() => ({ name, mode: 'exclusive' as const })))
    return { held, pending }
  }

  /** Holds `name` until the returned function is called (a tab's lifetime lock), or it is stolen. */
  hold(name: string): () => void {
    let release = () => {}
    this.request(name, () => new Promise<void>((r) => (release = r))).catch(() => {})
    return () => release()
  }
}

/** A BrowserEnv on a manual clock and in-memory locks; its wall clock is a fixed date plus `clock.now`. */
export function fakeEnv(): { clock: ManualClock; locks: FakeLocks; env: BrowserEnv } {
  const clock = new ManualClock()
  const locks = new FakeLocks()
  const env: BrowserEnv = {
    locks: locks as unknown as BrowserEnv['locks'],
    now: () => clock.now,
    wallClock: () => 1_800_000_000_000 + clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clear,
    setInterval: clock.setInterval,
    clearInterval: clock.clear,
  }
  return { clock, locks, env }
}
