import { describe, expect, it } from 'vitest'
import { HeartbeatWatch } from '../src/coordinator/heartbeat-watch.js'

/** A watch whose clock and looks the test drives: `look(at)` runs its timer at time `at`. */
function watch(boundMs: number) {
  let now = 0
  let tick: (() => void) | undefined
  let silent = 0
  const w = new HeartbeatWatch(
    {
      now: () => now,
      setInterval: (run: () => void) => ((tick = run), 1 as unknown as ReturnType<typeof setInterval>),
      clearInterval: () => (tick = undefined),
    },
    () => silent++,
  )
  w.start(boundMs)
  return {
    w,
    look(at: number) {
      now = at
      tick?.()
    },
    beatAt(at: number) {
      now = at
      w.beat()
    },
    get silent() {
      return silent
    },
    get stopped() {
      return tick === undefined
    },
  }
}

describe('HeartbeatWatch', () => {
  it('says silent once, after the bound, and stops', () => {
    const h = watch(1000)
    for (let at = 100; at <= 1000; at += 100) h.look(at)
    expect(h.silent).toBe(0)
    h.look(1100)
    expect(h.silent).toBe(1)
    expect(h.stopped).toBe(true)
  })

  it('a beat starts the bound again', () => {
    const h = watch(1000)
    for (let at = 100; at <= 900; at += 100) h.look(at)
    h.beatAt(950)
    for (let at = 1000; at <= 1900; at += 100) h.look(at)
    expect(h.silent).toBe(0)
    h.look(2000)
    expect(h.silent).toBe(1)
  })

  it('after a look a whole bound late (its own runtime was stopped), the bound starts again', () => {
    const h = watch(1000)
    h.look(100)
    h.look(5000) // frozen from 100 to 5000: it heard nothing, and nothing follows from that
    expect(h.silent).toBe(0)
    for (let at = 5100; at <= 6000; at += 100) h.look(at)
    expect(h.silent).toBe(0)
    h.look(6100)
    expect(h.silent).toBe(1)
  })
})
