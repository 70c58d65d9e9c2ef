// node:timers/promises' setTimeout(ms, value): a promise that resolves after `ms`, which the
// browser's timers do just as well.
export function setTimeout(ms, value) {
  return new Promise((resolve) => globalThis.setTimeout(() => resolve(value), ms))
}
export default { setTimeout }
