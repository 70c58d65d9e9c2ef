import { describe, expect, it } from 'vitest'
import { TabRegistry } from '../src/coordinator/tab-registry.js'

describe('TabRegistry', () => {
  it('elects the oldest tab, and again the oldest remaining when the active one goes', () => {
    const r = new TabRegistry()
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

  it('ignores stale activation reports', () => {
    const r = new TabRegistry()
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
})
