import { beforeEach, describe, expect, it, vi } from 'vitest'
import { OwnWorkerLine } from '../src/client/own-worker-line.js'
import type { SelfLine } from '../src/worker/own-line.js'

type OwnLineModule = typeof import('../src/worker/own-line.js')

const event = (data: unknown) => ({ data }) as MessageEvent

/** The worker's end, with `self.postMessage` recorded; a fresh module (its state) per test. */
async function workerSide(): Promise<OwnLineModule & { posted: unknown[] }> {
  const posted: unknown[] = []
  vi.stubGlobal('self', { postMessage: (message: unknown) => posted.push(message) })
  vi.resetModules()
  return { ...(await import('../src/worker/own-line.js')), posted }
}

/** What a line passes to its handler, by `t` and `id`. */
function listen(line: SelfLine): string[] {
  const heard: string[] = []
  line.onmessage = (e) => heard.push(`${e.data.t}${e.data.id ?? ''}`)
  return heard
}

describe('own line, worker end', () => {
  beforeEach(() => vi.unstubAllGlobals())

  it('meets the attach that came first; what the tab sent before the attach is kept, in order', async () => {
    const w = await workerSide()
    let attached: SelfLine | undefined
    w.awaitOwnLine('t1', (line) => (attached = line))
    const line = w.openOwnLine('t1', 1)
    expect(attached).toBe(line)
    line.deliver(event({ t: 'hello' }))
    line.deliver(event({ t: 'exec', id: 1 }))
    expect(listen(attached!)).toEqual(['hello', 'exec1'])
  })

  it('meets the attach that comes second, with the messages that arrived meanwhile', async () => {
    const w = await workerSide()
    const line = w.openOwnLine('t1', 1)
    line.deliver(event({ t: 'hello' }))
    line.deliver(event({ t: 'exec', id: 7 }))
    let attached: SelfLine | undefined
    w.awaitOwnLine('t1', (line) => (attached = line))
    expect(attached).toBeDefined()
    const heard = listen(attached!)
    expect(heard).toEqual(['hello', 'exec7'])
    // Attached, the line hands a message to the server's handler with no step of its own.
    expect(attached!.deliver).toBe(attached!.onmessage)
    attached!.deliver(event({ t: 'exec', id: 8 }))
    expect(heard).toEqual(['hello', 'exec7', 'exec8'])
  })

  it('says the line is open before anything posted on it; a closed line posts and hears nothing', async () => {
    const w = await workerSide()
    const line = w.openOwnLine('t1', 4)
    const heard = listen(line)
    line.postMessage({ t: 'result', id: 1 })
    line.close()
    line.postMessage({ t: 'result', id: 2 })
    expect(w.posted).toEqual([
      { t: 'own-line-open', serial: 4 },
      { t: 'result', id: 1 },
    ])
    line.deliver(event({ t: 'exec', id: 3 }))
    line.onmessage = (e) => heard.push(`late ${e.data.t}`)
    line.deliver(event({ t: 'exec', id: 4 }))
    expect(heard).toEqual([])
  })

  it('a newer own line replaces the older: the older hears and posts nothing more, a stale attach never meets', async () => {
    const w = await workerSide()
    let first: SelfLine | undefined
    w.awaitOwnLine('t1', (line) => (first = line))
    w.openOwnLine('t1', 1)
    const heardFirst = listen(first!)
    const second = w.openOwnLine('t2', 2)
    expect(second).not.toBe(first)
    second.deliver(event({ t: 'exec', id: 3 }))
    first!.deliver(event({ t: 'exec', id: 4 }))
    first!.postMessage({ t: 'result', id: 9 })
    expect(heardFirst).toEqual([])
    // The older line went quiet before the newer one was announced open.
    expect(w.posted).toEqual([
      { t: 'own-line-open', serial: 1 },
      { t: 'own-line-open', serial: 2 },
    ])

    let stale: SelfLine | undefined
    w.awaitOwnLine('t1', (line) => (stale = line))
    expect(stale).toBeUndefined()
    let fresh: SelfLine | undefined
    w.awaitOwnLine('t2', (line) => (fresh = line))
    expect(fresh).toBe(second)
    expect(listen(fresh!)).toEqual(['exec3'])
  })
})

describe('own line, tab end', () => {
  it('announces itself with the token and serial, hears only what comes after the worker says it is open, until closed', () => {
    const posted: unknown[] = []
    const worker = { postMessage: (m: unknown) => posted.push(m) } as unknown as Worker
    const line = new OwnWorkerLine(worker, 'tok', 3)
    line.postMessage({ t: 'hello', token: 'tok' })
    const heard: unknown[] = []
    line.onmessage = (e) => heard.push(e.data)
    line.deliver(event({ t: 'refused', id: 1 })) // from the line before: dropped
    line.opened(2)
    line.deliver(event({ t: 'refused', id: 2 })) // still not this line's
    line.opened(3)
    line.deliver(event({ t: 'result', id: 3 }))
    line.close()
    line.postMessage({ t: 'exec', id: 4 })
    line.deliver(event({ t: 'result', id: 4 }))
    expect(posted).toEqual([
      { t: 'own-line', v: expect.any(Number), token: 'tok', serial: 3 },
      { t: 'hello', token: 'tok' },
    ])
    expect(heard).toEqual([{ t: 'result', id: 3 }])
  })
})
