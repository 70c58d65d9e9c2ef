// A tab's watch on its Web Locks coordinator, with a manual clock and in-memory Web Locks: when it
// pings, when it takes over, and that one tab at a time does.
import { describe, expect, it } from 'vitest'
import { CoordinatorWatch } from '../src/client/coordinator-watch.js'
import { pingAfterMs, pingAnswerMs, silenceCheckMs } from '../src/client/coordinator-silence.js'
import { fakeEnv } from './support/fake-env.js'

const HANG = 4000
const TAKE_OVER_LOCK = 'db:take-over'
/** The first look after the ping bound has passed: the ping. */
const PING_AT = pingAfterMs(HANG) + silenceCheckMs(HANG)
/** The first look after the ping went unanswered for the answer window: the take-over. */
const TAKE_OVER_AT = PING_AT + pingAnswerMs()

type World = ReturnType<typeof fakeEnv>

/** A tab's watch, welcomed by `old` at the clock's time, recording what it does. */
function tab(world: World) {
  const did = { pings: 0, takeOvers: 0, moves: [] as string[] }
  const watch = new CoordinatorWatch(
    HANG,
    TAKE_OVER_LOCK,
    {
      post: () => void did.pings++,
      move: (lock) => void did.moves.push(lock),
      takeOver: () => void did.takeOvers++,
    },
    () => {},
    world.env,
  )
  watch.welcomed('old')
  return { watch, did }
}

/** Lets lock callbacks and the promises after them run. */
const settle = () => new Promise<void>((r) => setImmediate(r))

/** Moves the clock to `at`, by steps of 10 ms, letting promises settle after each. */
async function runTo(world: World, at: number): Promise<void> {
  while (world.clock.now < at) {
    world.clock.advance(Math.min(10, at - world.clock.now))
    await settle()
  }
}

async function takeOverLockHeld(world: World): Promise<boolean> {
  const { held } = await world.locks.query()
  return held!.some((lock) => lock.name === TAKE_OVER_LOCK)
}

describe('CoordinatorWatch', () => {
  it('does not ping while the coordinator has been silent for no more than the ping bound', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, pingAfterMs(HANG))
    expect(a.did.pings).toBe(0)
    await runTo(world, PING_AT)
    expect(a.did.pings).toBe(1)
  })

  it('takes over once its ping goes unanswered for the answer window, not before', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, TAKE_OVER_AT - 1)
    expect(a.did).toMatchObject({ pings: 1, takeOvers: 0 })
    await runTo(world, TAKE_OVER_AT)
    expect(a.did).toMatchObject({ pings: 1, takeOvers: 1 })
    expect(await takeOverLockHeld(world)).toBe(true)
  })

  it('does not take over when the coordinator answers the ping', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, PING_AT)
    a.watch.heard()
    await runTo(world, PING_AT + pingAfterMs(HANG))
    expect(a.did).toMatchObject({ pings: 1, takeOvers: 0 })
  })

  it('neither pings nor takes over while the coordinator is heard', async () => {
    const world = fakeEnv()
    const a = tab(world)
    for (let at = 500; at <= 5 * HANG; at += 500) {
      await runTo(world, at)
      a.watch.heard()
    }
    expect(a.did).toMatchObject({ pings: 0, takeOvers: 0 })
  })

  it('moves to another coordinator heard after its ping rather than take over', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, PING_AT)
    a.watch.heardOther('new')
    await runTo(world, TAKE_OVER_AT + HANG / 4)
    expect(a.did.moves).toEqual(['new'])
    expect(a.did.takeOvers).toBe(0)
  })

  it('lets one tab take over at a time: a second that finds the take-over lock held does not', async () => {
    const world = fakeEnv()
    const a = tab(world)
    const b = tab(world)
    await runTo(world, TAKE_OVER_AT + HANG / 2)
    expect([a.did.takeOvers, b.did.takeOvers]).toEqual([1, 0])
    // b asked without queueing (ifAvailable): a queued request would take over once a let go.
    const { pending } = await world.locks.query()
    expect(pending!.filter((lock) => lock.name === TAKE_OVER_LOCK)).toEqual([])
  })

  it('lets the take-over lock go once the new coordinator welcomes the tab', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, TAKE_OVER_AT + 100)
    expect(await takeOverLockHeld(world)).toBe(true)
    a.watch.welcomed('new')
    await runTo(world, world.clock.now + silenceCheckMs(HANG) + 10)
    expect(await takeOverLockHeld(world)).toBe(false)
    expect(a.did.takeOvers).toBe(1)
  })

  it('lets the take-over lock go after one hang bound, though no coordinator welcomed the tab', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, TAKE_OVER_AT + 100)
    // The old coordinator speaks again, though it was only slow: the hold does not end for that.
    for (let at = TAKE_OVER_AT + 500; at < TAKE_OVER_AT + HANG; at += 500) {
      await runTo(world, at)
      a.watch.heard()
    }
    await runTo(world, TAKE_OVER_AT + HANG - 10)
    expect(await takeOverLockHeld(world)).toBe(true)
    await runTo(world, TAKE_OVER_AT + HANG + silenceCheckMs(HANG) + 10)
    expect(await takeOverLockHeld(world)).toBe(false)
    expect(a.did.takeOvers).toBe(1)
  })

  it('steals the take-over lock from a tab that holds it for a whole bound more of silence', async () => {
    const world = fakeEnv()
    world.locks.hold(TAKE_OVER_LOCK) // a tab that took over, and froze holding it
    const b = tab(world)
    await runTo(world, TAKE_OVER_AT + HANG - 10)
    expect(b.did.takeOvers).toBe(0)
    await runTo(world, TAKE_OVER_AT + HANG)
    expect(b.did.takeOvers).toBe(1)
  })

  it('counts the bound of denial afresh when the coordinator is heard meanwhile', async () => {
    const world = fakeEnv()
    world.locks.hold(TAKE_OVER_LOCK)
    const b = tab(world)
    await runTo(world, TAKE_OVER_AT + HANG / 2)
    b.watch.heard()
    const silentAgain = world.clock.now
    await runTo(world, silentAgain + pingAfterMs(HANG) + silenceCheckMs(HANG) + pingAnswerMs() + HANG - 10)
    expect(b.did.takeOvers).toBe(0)
    await runTo(world, world.clock.now + silenceCheckMs(HANG) + 10)
    expect(b.did.takeOvers).toBe(1)
  })

  it('stops every timer on stop(), and does nothing more', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, PING_AT)
    a.watch.stop()
    expect(world.clock.pending).toBe(0)
    await runTo(world, 5 * HANG)
    expect(a.did).toMatchObject({ pings: 1, takeOvers: 0 })
  })

  it('ends the hold of the take-over lock on stop()', async () => {
    const world = fakeEnv()
    const a = tab(world)
    await runTo(world, TAKE_OVER_AT + 100)
    a.watch.stop()
    await runTo(world, world.clock.now + silenceCheckMs(HANG))
    expect(world.clock.pending).toBe(0)
    expect(await takeOverLockHeld(world)).toBe(false)
  })
})
