/**
 * The `debug` option: a log of routing and hand-offs, and of every message dropped as malformed.
 * Off by default, and then free (a no-op function).
 */
export type DebugLog = (event: string, details?: Record<string, unknown>) => void

export const silent: DebugLog = () => {}

/** `true` logs to console.debug with a prefix saying which runtime logged it. */
export function debugLog(option: boolean | DebugLog | undefined, runtime: string): DebugLog {
  if (typeof option === 'function') return (event, details) => option(`${runtime}: ${event}`, details)
  if (option) return (event, details) => console.debug(`[kysely-multitab ${runtime}] ${event}`, details ?? '')
  return silent
}
