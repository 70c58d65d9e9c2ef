/**
 * When a tab decides that its Web Locks coordinator is gone silent, and what it does then. Pure:
 * CoordinatorLink feeds it what it heard and when.
 *
 * The Web Locks coordinator runs in one tab's worker. A browser that freezes that tab stops the
 * coordinator, yet the tab keeps its locks, so no lock tells the other tabs. Hence a watch: the
 * coordinator says `alive` on the join channel at a steady pace, and a tab that hears nothing
 * from it for half its hang bound (at least three beats) pings it. A tab of its own just resumed
 * may see old silence, and a ping answered in time clears it; no answer means the coordinator
 * cannot answer, and the tab takes its place. If another coordinator answers instead (one took
 * over already and this tab missed its `ready`), the tab moves to that one.
 *
 * The take-over comes before the active worker, which hears nothing from the coordinator either,
 * lets the database go (twice the hang bound), though not always before its role goes stale.
 */
import { COORDINATOR_ALIVE_MS } from '../protocol/coordinator-messages.js'

/** What the tab heard, by its own monotonic clock (ms). */
export interface Heard {
  readonly now: number
  /** When its coordinator last spoke (any message, or its `alive`), or when the tab last joined. */
  readonly fromCoordinatorAt: number
  /** When this tab pinged, if it has since its coordinator last spoke. */
  readonly pingedAt: number | undefined
  /** Another coordinator heard after the ping (its lock), if any. */
  readonly otherSince: string | undefined
}

export type SilenceVerdict =
  | { readonly do: 'nothing' }
  | { readonly do: 'ping' }
  | { readonly do: 'move'; readonly to: string }
  | { readonly do: 'take-over' }

/** How long the coordinator may say nothing before the tab pings it. */
export function pingAfterMs(hangTimeoutMs: number): number {
  return Math.max(hangTimeoutMs / 2, 3 * COORDINATOR_ALIVE_MS)
}

/**
 * How long a ping may go unanswered: the coordinator answers at once when it can answer at all.
 * One beat, whatever the bound: on a busy machine a live coordinator may take a while, and a
 * take-over makes every tab join again.
 */
export function pingAnswerMs(): number {
  return COORDINATOR_ALIVE_MS
}

/** How often the tab looks. */
export function silenceCheckMs(hangTimeoutMs: number): number {
  return Math.min(COORDINATOR_ALIVE_MS / 2, hangTimeoutMs / 8)
}

/** @param hangTimeoutMs the tab's own bound, which the silence watch follows. */
export function silenceVerdict(heard: Heard, hangTimeoutMs: number): SilenceVerdict {
  if (heard.now - heard.fromCoordinatorAt <= pingAfterMs(hangTimeoutMs)) return { do: 'nothing' }
  if (heard.pingedAt === undefined) return { do: 'ping' }
  if (heard.otherSince !== undefined) return { do: 'move', to: heard.otherSince }
  if (heard.now - heard.pingedAt < pingAnswerMs()) return { do: 'nothing' }
  return { do: 'take-over' }
}
