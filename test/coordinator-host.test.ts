// A tab's turn to host the Web Locks coordinator, on in-memory Web Locks and fake coordinator
// workers: when it starts the coordinator, when it ends it, and what it does when it is stolen from
// or its coordinator fails.
import { describe, expect, it } from 'vitest'
import { CoordinatorHost, type CoordinatorHostEnv } from '../src/client/coordinator-host.js'
import { StorageUnavailableError } from '../src/protocol/errors.js'
import { coordinatorHostName, databaseNames, isTakeOver } from '../src/protocol/names.js'
import { fakeLinkEnv, type FakeHostWorker } from './support/fake-channels.js'

const names = databaseNames('app.db')

type World = ReturnType<typeof fakeLinkEnv>

/** Lets lock grants, and the promises after them, run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

/** A tab's host on the world's locks, keeping the coordinators it started and its failures. */
function tab(w: World, options: { url?: string; start?: CoordinatorHostEnv['startCoordinatorHost'] } = {}) {
  const workers: FakeHostWorker[] = []
  const failed: Error[] = []
  const env: CoordinatorHostEnv = {
    locks: w.env.locks,
    startCoordinatorHost:
      options.start ??
      ((url, name) => {
        const worker = w.env.startCoordinatorHost(url, name) as FakeHostWorker
        workers.push(worker)
        return worker
      }),
  }
  const host = new CoordinatorHost(
    names,
    options.url,
    () => {},
    (error) => void failed.push(error),
    env,
  )
  /** The coordinator this tab runs now, if any. */
  const running = () => workers.filter((worker) => !worker.terminated)
  return { host, workers, failed, running }
}

/** Requests for the host lock: whether one holds it, and how many queue behind. */
/** Tab a hosts the coordinator; tab b queued behind it. */
async function aHostsBQueued() {
  const w = fakeLinkEnv()
  const a = tab(w)
  const b = tab(w)
  a.host.queue()
  await settle()
  b.host.queue()
  await settle()
  return { w, a, b }
}

async function hostLock(w: World) {
  const { held, pending } = await w.locks.query()
  return {
    held: held!.some((lock) => lock.name === names.hostLock),
    queued: pending!.filter((lock) => lock.name === names.hostLock).length,
  }
}

describe('CoordinatorHost', () => {
  it('queues for the host lock, and starts the coordinator only once granted', async () => {
    const w = fakeLinkEnv()
    const release = w.locks.hold(names.hostLock)
    const a = tab(w, { url: 'https://cdn.example/coordinator.js' })
    a.host.queue()
    await settle()
    expect(a.workers).toHaveLength(0)
    expect(await hostLock(w)).toEqual({ held: true, queued: 1 })
    release()
    await settle()
    expect(a.workers).toHaveLength(1)
    expect(a.workers[0]).toMatchObject({ url: 'https://cdn.example/coordinator.js', name: coordinatorHostName(names, false) })
    expect(await hostLock(w)).toEqual({ held: true, queued: 0 })
  })

  it('queues once, however often asked, and not behind its own turn', async () => {
    const w = fakeLinkEnv()
    const release = w.locks.hold(names.hostLock)
    const a = tab(w)
    a.host.queue()
    a.host.queue()
    await settle()
    a.host.queue()
    await settle()
    expect(await hostLock(w)).toEqual({ held: true, queued: 1 })
    release()
    await settle()
    a.host.queue()
    await settle()
    expect(a.running()).toHaveLength(1)
    expect(await hostLock(w)).toEqual({ held: true, queued: 0 })
  })

  it('leaves the queue on close, so the next tab in line does not wait for its turn', async () => {
    const w = fakeLinkEnv()
    const release = w.locks.hold(names.hostLock)
    const a = tab(w)
    const b = tab(w)
    a.host.queue()
    b.host.queue()
    await settle()
    expect(await hostLock(w)).toEqual({ held: true, queued: 2 })
    a.host.close()
    await settle()
    expect(await hostLock(w)).toEqual({ held: true, queued: 1 })
    release()
    await settle()
    expect(a.workers).toHaveLength(0)
    expect(b.running()).toHaveLength(1)
  })

  it('starts nothing when the grant comes after close', async () => {
    const w = fakeLinkEnv()
    const a = tab(w)
    a.host.queue() // granted at once; the callback runs in a later task
    a.host.close()
    await settle()
    expect(a.workers).toHaveLength(0)
    expect(await hostLock(w)).toEqual({ held: false, queued: 0 })
  })

  it('ends the coordinator it hosts on close, and lets the host lock go to the next tab', async () => {
    const { w, a, b } = await aHostsBQueued()
    expect(a.running()).toHaveLength(1)
    expect(b.workers).toHaveLength(0)
    a.host.close()
    expect(a.running()).toHaveLength(0)
    await settle()
    expect(b.running()).toHaveLength(1)
    expect(await hostLock(w)).toEqual({ held: true, queued: 0 })
  })

  it('ends its coordinator when another tab steals the host lock, and queues again', async () => {
    const w = fakeLinkEnv()
    const a = tab(w)
    const b = tab(w)
    a.host.queue()
    await settle()
    b.host.takeOver()
    await settle()
    expect(a.running()).toHaveLength(0)
    expect(b.running()).toHaveLength(1)
    expect(isTakeOver(b.workers[0]!.name)).toBe(true)
    expect(await hostLock(w)).toEqual({ held: true, queued: 1 })
    expect(a.failed).toEqual([])
    b.host.close()
    await settle()
    expect(a.workers).toHaveLength(2)
    expect(a.running()).toHaveLength(1)
    expect(isTakeOver(a.workers[1]!.name)).toBe(false)
  })

  it('taking over from itself, ends its own coordinator first and hosts the one that takes over', async () => {
    const w = fakeLinkEnv()
    const a = tab(w)
    a.host.queue()
    await settle()
    const first = a.workers[0]!
    a.host.takeOver()
    expect(first.terminated).toBe(true)
    await settle()
    expect(a.workers).toHaveLength(2)
    expect(a.running()).toEqual([a.workers[1]])
    expect(isTakeOver(a.workers[1]!.name)).toBe(true)
    // Its own earlier request, stolen by itself, does not send it to the queue again.
    expect(await hostLock(w)).toEqual({ held: true, queued: 0 })
  })

  it('takes over from a tab it queued behind, withdrawing its queued request', async () => {
    const { w, a, b } = await aHostsBQueued()
    b.host.takeOver()
    await settle()
    expect(b.running()).toHaveLength(1)
    expect(b.workers).toHaveLength(1)
    expect(a.running()).toHaveLength(0)
    expect(await hostLock(w)).toEqual({ held: true, queued: 1 }) // a, queued again
  })

  it('fails when the coordinator script fails to load', async () => {
    const w = fakeLinkEnv()
    const a = tab(w)
    a.host.queue()
    await settle()
    a.workers[0]!.failToLoad()
    expect(a.failed).toHaveLength(1)
    expect(a.failed[0]).toBeInstanceOf(StorageUnavailableError)
    expect(a.failed[0]!.message).toMatch(/failed to load/)
  })

  it('fails when the browser refuses to start the coordinator, and lets the host lock go', async () => {
    const w = fakeLinkEnv()
    const a = tab(w, {
      start: () => {
        throw new TypeError('refused URL')
      },
    })
    a.host.queue()
    await settle()
    expect(a.failed).toHaveLength(1)
    expect(a.failed[0]).toBeInstanceOf(StorageUnavailableError)
    expect(a.failed[0]!.message).toMatch(/could not start: refused URL/)
    expect(await hostLock(w)).toEqual({ held: false, queued: 0 })
  })

  it('ends a coordinator that ran and threw, lets the next tab host, and queues again', async () => {
    const { w, a, b } = await aHostsBQueued()
    a.workers[0]!.threw('Uncaught TypeError: x is undefined')
    expect(a.running()).toHaveLength(0)
    await settle()
    expect(b.running()).toHaveLength(1)
    expect(a.failed).toEqual([])
    expect(await hostLock(w)).toEqual({ held: true, queued: 1 })
  })
})
