import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ClosureQueue } from './support/closure-queue.js'

type Step =
  | { kind: 'submit'; tab: number; lease: number; fail: boolean }
  | { kind: 'release'; tab: number; lease: number }
  | { kind: 'revokeTab'; tab: number }
  | { kind: 'tick' }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('submit' as const), tab: fc.nat(2), lease: fc.nat(2), fail: fc.boolean() }),
  fc.record({ kind: fc.constant('release' as const), tab: fc.nat(2), lease: fc.nat(2) }),
  fc.record({ kind: fc.constant('revokeTab' as const), tab: fc.nat(2) }),
  fc.record({ kind: fc.constant('tick' as const) }),
)

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('LeaseQueue (property-based)', () => {
  it('runs one statement at a time, only for the holder, and never wedges once leases are released', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        let running = 0
        let violations = 0
        const queue = new ClosureQueue({
          idleTimeoutMs: 60_000,
          timeoutError: () => new Error('timeout'),
          onRevoke: () => {},
        })
        const settled: Promise<unknown>[] = []
        for (const s of steps) {
          if (s.kind === 'submit') {
            const key = { tabId: `t${s.tab}`, lease: s.lease }
            settled.push(
              queue
                .submit(key, async () => {
                  running++
                  const holder = queue.holder
                  if (running > 1 || !holder || holder.tabId !== key.tabId || holder.lease !== key.lease) violations++
                  await tick()
                  running--
                  if (s.fail) throw new Error('statement failed')
                })
                .catch(() => {}),
            )
          } else if (s.kind === 'release') queue.release({ tabId: `t${s.tab}`, lease: s.lease })
          else if (s.kind === 'revokeTab') queue.revokeTab(`t${s.tab}`, new Error('gone'))
          else await tick()
        }
        // The app releases every lease in the end: everything queued must then settle.
        let pending = true
        const all = Promise.all(settled).then(() => (pending = false))
        for (let round = 0; round < 200 && pending; round++) {
          for (let tab = 0; tab <= 2; tab++) for (let lease = 0; lease <= 2; lease++) queue.release({ tabId: `t${tab}`, lease })
          await tick()
        }
        await all
        expect(violations).toBe(0)
        expect(queue.depth).toBe(0)
      }),
      { numRuns: 300 },
    )
  })
})
