// Small statistics helpers for the bench (nearest-rank percentiles).
export function pct(xs, p) {
  if (!xs || xs.length === 0) return undefined
  const s = Float64Array.from(xs).sort()
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}
export const median = (xs) => pct(xs, 50)
export const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined)
export function round(x, digits = 3) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}
/** Human-readable ms: 0.123 ms, 12.3 ms, 1.23 s. */
export function fmtMs(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '-'
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`
  if (x >= 100) return `${x.toFixed(0)} ms`
  if (x >= 10) return `${x.toFixed(1)} ms`
  if (x >= 1) return `${x.toFixed(2)} ms`
  return `${x.toFixed(3)} ms`
}
export const fmtRatio = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${x.toFixed(2)}x` : '-')
