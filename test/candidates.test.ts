import { describe, expect, it } from 'vitest'
import { Candidates } from '../src/coordinator/candidates.js'
import { TabRegistry } from '../src/coordinator/tab-registry.js'

/** A registry of tabs a, b, c (oldest first), nobody elected. */
function tabs() {
  let t = 0
  const registry = new TabRegistry(() => ++t)
  for (const id of ['a', 'b', 'c']) registry.add(id)
  return registry
}

/** Elects with `candidates`, and gives the role up again at once: who would have it. */
function next(registry: TabRegistry, candidates: Candidates, preferred?: string): string | undefined {
  const election = candidates.pick(registry, preferred)
  if (election) registry.abandon(election.tabId, election.epoch)
  return election?.tabId
}

describe('Candidates', () => {
  it('elects the preferred tab, else the oldest', () => {
    const registry = tabs()
    const candidates = new Candidates()
    expect(next(registry, candidates, 'c')).toBe('c')
    expect(next(registry, candidates)).toBe('a')
    expect(next(registry, candidates, 'gone')).toBe('a')
  })

  it('passes over tabs that failed until every tab has, then tries them all again', () => {
    const registry = tabs()
    const candidates = new Candidates()
    candidates.couldNotOpen('a')
    candidates.hung('b')
    expect(next(registry, candidates)).toBe('c')
    expect(candidates.untried(registry)).toBe(true)
    candidates.hung('c')
    expect(candidates.untried(registry)).toBe(false)
    expect(next(registry, candidates)).toBe('a')
  })

  it('elects a tab that stepped down or stayed silent only when no other will do', () => {
    const registry = tabs()
    const candidates = new Candidates()
    candidates.silentWhenElected('a')
    candidates.steppedDown('b')
    expect(next(registry, candidates)).toBe('c')
    candidates.couldNotOpen('c')
    expect(next(registry, candidates)).toBe('b') // every tab passed over: the oldest that did not fail
    candidates.served('c')
    expect(next(registry, candidates)).toBe('b') // a stays distrusted until its own worker serves
    candidates.served('a')
    expect(next(registry, candidates)).toBe('a')
  })

  it('does not follow the user to a tab that could not open or stepped down, until it is shown again', () => {
    const candidates = new Candidates()
    candidates.couldNotOpen('a')
    candidates.steppedDown('b')
    expect(['a', 'b', 'c'].filter((id) => candidates.followable(id))).toEqual(['c'])
    candidates.freshWorker('a')
    candidates.shown('a')
    candidates.claimed('b', false)
    expect(['a', 'b', 'c'].filter((id) => candidates.followable(id))).toEqual(['a', 'c'])
    candidates.claimed('b', true)
    expect(candidates.followable('b')).toBe(true)
  })

  it('forgets a tab that is gone', () => {
    const registry = tabs()
    const candidates = new Candidates()
    candidates.silentWhenElected('a')
    candidates.gone('a')
    expect(candidates.followable('a')).toBe(true)
    expect(next(registry, candidates)).toBe('a')
  })
})
