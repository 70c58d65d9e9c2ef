import { describe, expect, it } from 'vitest'
import { TabRegistry } from '../src/coordinator/tab-registry.js'

describe('TabRegistry', () => {
  const clock = () => 0

  it('elects the oldest tab, and again the oldest remaining when the active one goes', () => {
    const r = new TabRegistry(clock)
    r.add('a')
    r.add('b')
    r.add('c')
    expect(r.beginElection()).toEqual({ tabId: 'a', epoch: 1 })
    expect(r.beginElection()).toBeUndefined() // the role is taken
    expect(r.markReady('a', 1)).toBe(true)
    expect(r.remove('b')).toEqual({ wasActive: false })
    expect(r.remove('a')).toEqual({ wasActive: true })
    expect(r.active).toBeUndefined()
    expect(r.beginElection()).toEqual({ tabId: 'c', epoch: 2 })
  })

  it('names the next in line (for a warm standby): the tab the next election would pick', () => {
    const r = new TabRegistry(clock)
    r.add('a')
    r.add('b')
    r.add('c')
    expect(r.nextInLine()).toBeUndefined() // nobody active yet
    const { epoch } = r.beginElection()!
    expect(r.nextInLine()).toBeUndefined() // still opening
    r.markReady('a', epoch)
    expect(r.nextInLine()).toBe('b')
    expect(r.nextInLine(new Set(['b']))).toBe('c')
    r.remove('b')
    expect(r.nextInLine()).toBe('c')
    r.remove('a')
    expect(r.nextInLine()).toBeUndefined()
    expect(r.beginElection()?.tabId).toBe('c') // the one that was next in line
  })

  it('lines tabs up by when they first joined, so a restarted coordinator keeps their order', () => {
    const r = new TabRegistry(clock)
    // Rejoining a new coordinator in a random order, each with the time it first joined.
    r.add('c', 300)
    r.add('a', 100)
    r.add('b', 200)
    expect(r.tabIds()).toEqual(['a', 'b', 'c'])
    const { epoch } = r.beginElection()!
    expect(r.active).toBe('a')
    r.markReady('a', epoch)
    expect(r.nextInLine()).toBe('b')
  })

  it('ignores stale activation reports', () => {
    const r = new TabRegistry(clock)
    r.add('a')
    r.add('b')
    r.beginElection()
    expect(r.abandon('a', 1)).toBe(true)
    expect(r.beginElection(new Set(['a']))).toEqual({ tabId: 'b', epoch: 2 })
    expect(r.markReady('a', 1)).toBe(false)
    expect(r.markReady('b', 1)).toBe(false)
    expect(r.markReady('b', 2)).toBe(true)
    expect(r.ready).toBe(true)
  })

  it('does not add a tab twice and elects nobody when empty', () => {
    const r = new TabRegistry()
    expect(r.beginElection()).toBeUndefined()
    expect(r.add('a')).toBe(true)
    expect(r.add('a')).toBe(false)
    expect(r.size).toBe(1)
  })

  it('epochs follow the clock, so a restarted registry still outranks what tabs have seen', () => {
    let now = 5000
    const r = new TabRegistry(() => now)
    r.add('a')
    expect(r.beginElection()?.epoch).toBe(5000)
    r.remove('a')
    r.add('b')
    expect(r.beginElection()?.epoch).toBe(5001) // same millisecond: still one more
    const restarted = new TabRegistry(() => 10)
    restarted.observeEpoch(5001)
    restarted.add('b')
    expect(restarted.beginElection()?.epoch).toBe(5002)
    now = 9000
  })
})
