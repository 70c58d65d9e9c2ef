import { describe, expect, it } from 'vitest'
import { RequestRouter } from '../src/client/request-router.js'
import type { Line } from '../src/protocol/line.js'

/** A line that records what the router sends and answers every statement at once. */
function recordingLine() {
  const sent: Array<Record<string, unknown>> = []
  const line: Line = {
    onmessage: null,
    start() {},
    close() {},
    postMessage(message: unknown) {
      const m = message as Record<string, unknown>
      sent.push(m)
      if (m.t === 'exec') queueMicrotask(() => line.onmessage?.({ data: { t: 'result', id: m.id, changes: 0 } } as MessageEvent))
    },
  }
  return { line, sent }
}

function routed() {
  const router = new RequestRouter(1000, 'tab-a')
  const { line, sent } = recordingLine()
  router.setRoute(1, 'tab-a', line, 'token')
  sent.length = 0 // hello
  return { router, sent }
}

const nextTask = () => new Promise((resolve) => setImmediate(resolve))

describe('RequestRouter releases', () => {
  it('a release rides on the next statement when the app sends one right after (queries in a loop)', async () => {
    const { router, sent } = routed()
    for (let lease = 1; lease <= 3; lease++) {
      await router.exec(lease, 'select 1', [], 'read')
      router.release(lease)
      // A few awaits, as Kysely's own between handing back the rows and the app's next query.
      for (let i = 0; i < 5; i++) await Promise.resolve()
    }
    await nextTask()
    expect(sent.map((m) => m.t)).toEqual(['exec', 'exec', 'exec', 'release'])
    expect(sent[1]!.releases).toEqual([1])
    expect(sent[2]!.releases).toEqual([2])
    expect(sent[3]!.leases).toEqual([3])
  })

  it('a release with no statement after it goes alone, within microtasks of the same task, once', async () => {
    const { router, sent } = routed()
    await router.exec(1, 'select 1', [], 'read')
    router.release(1)
    // No task boundary: only microtasks (a bounded number of them) may pass.
    for (let i = 0; i < 200; i++) await Promise.resolve()
    expect(sent).toEqual([expect.objectContaining({ t: 'exec', id: 1, lease: 1 }), { t: 'release', leases: [1] }])
    await nextTask()
    expect(sent).toHaveLength(2)
  })
})

describe('RequestRouter routes', () => {
  it('acceptsRoute says exactly which routes setRoute takes (the tab opens an own line only for those)', () => {
    const router = new RequestRouter(1000, 'tab-a')
    const taken = (epoch: number) => {
      const accepts = router.acceptsRoute(epoch)
      let closed = false
      const line: Line = { onmessage: null, start() {}, close: () => void (closed = true), postMessage() {} }
      router.setRoute(epoch, 'tab-a', line, 'token')
      expect(closed).toBe(!accepts)
      return accepts
    }
    expect(taken(5)).toBe(true)
    expect(taken(5)).toBe(false) // the same election again
    expect(taken(4)).toBe(false) // an older one
    router.loseRoute(7, 'closed')
    expect(taken(6)).toBe(false) // older than an epoch already seen lost
    expect(taken(8)).toBe(true)
    router.close()
    expect(taken(9)).toBe(false)
  })
})
