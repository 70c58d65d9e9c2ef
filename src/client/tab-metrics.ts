/**
 * What this tab measured of its own queries and of hand-offs. Cheap enough to stay on: a ring of
 * the latest latencies per role, and counters.
 */

/** Latency summary of one group of queries, in ms. */
export interface LatencySummary {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly max: number
}

/** A snapshot of this tab's metrics (`dialect.metrics()`). */
export interface MetricsSnapshot {
  /** Queries this tab completed (successfully or not). */
  readonly queries: number
  /** Round-trip latency of this tab's latest queries, by whether this tab was the active one. */
  readonly latencyMs: { readonly active: LatencySummary; readonly follower: LatencySummary }
  /** Hand-offs this tab saw, and how long each took (active lost -> new active serving), latest last. */
  readonly handoffs: { readonly count: number; readonly durationsMs: readonly number[] }
  /** Failed queries by error name. */
  readonly errors: Readonly<Record<string, number>>
  /** Statements sent and not yet answered, and those waiting for an active tab. */
  readonly inFlight: number
  readonly waiting: number
}

const RING = 1000
const HANDOFFS_KEPT = 50

class Ring {
  readonly #values = new Float64Array(RING)
  #size = 0
  #next = 0
  count = 0

  push(value: number): void {
    this.#values[this.#next] = value
    this.#next = (this.#next + 1) % RING
    this.#size = Math.min(this.#size + 1, RING)
    this.count++
  }

  summary(): LatencySummary {
    const sorted = Array.from(this.#values.subarray(0, this.#size)).sort((a, b) => a - b)
    const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0)
    const round = (x: number) => Math.round(x * 1000) / 1000
    return { count: this.count, p50: round(at(0.5)), p95: round(at(0.95)), max: round(sorted.at(-1) ?? 0) }
  }
}

export class TabMetrics {
  readonly #active = new Ring()
  readonly #follower = new Ring()
  readonly #errors: Record<string, number> = {}
  readonly #handoffs: number[] = []
  #handoffCount = 0
  #queries = 0

  query(ms: number, onActive: boolean, error?: Error): void {
    this.#queries++
    ;(onActive ? this.#active : this.#follower).push(ms)
    if (error) this.#errors[error.name] = (this.#errors[error.name] ?? 0) + 1
  }

  handoff(ms: number): void {
    this.#handoffCount++
    this.#handoffs.push(ms)
    if (this.#handoffs.length > HANDOFFS_KEPT) this.#handoffs.shift()
  }

  snapshot(inFlight: number, waiting: number): MetricsSnapshot {
    return {
      queries: this.#queries,
      latencyMs: { active: this.#active.summary(), follower: this.#follower.summary() },
      handoffs: { count: this.#handoffCount, durationsMs: [...this.#handoffs] },
      errors: { ...this.#errors },
      inFlight,
      waiting,
    }
  }
}
