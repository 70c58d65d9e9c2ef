import { describe, expect, it } from 'vitest'
import { visibleSuccessor, type TabVisibility } from '../src/coordinator/visibility-policy.js'

const tab = (tabId: string, visible: boolean, since: number): TabVisibility => ({ tabId, visible, since })

describe('visibleSuccessor', () => {
  it('leaves a visible active tab alone', () => {
    expect(visibleSuccessor(tab('A', true, 0), [tab('B', true, 5)], 2000, 10_000)).toBeUndefined()
  })

  it('leaves a hidden active tab alone while no other tab is visible', () => {
    expect(visibleSuccessor(tab('A', false, 0), [tab('B', false, 5), tab('C', false, 6)], 2000, 10_000)).toBeUndefined()
  })

  it('waits out the grace, then names the visible tab shown last', () => {
    const others = [tab('B', true, 100), tab('C', true, 900), tab('D', false, 950)]
    expect(visibleSuccessor(tab('A', false, 1000), others, 2000, 1500)).toEqual({ at: 3000 })
    expect(visibleSuccessor(tab('A', false, 1000), others, 2000, 3000)).toEqual({ tabId: 'C' })
  })

  it('moves at once with a grace of 0, and never without one (the app opted out)', () => {
    expect(visibleSuccessor(tab('A', false, 1000), [tab('B', true, 0)], 0, 1000)).toEqual({ tabId: 'B' })
    expect(visibleSuccessor(tab('A', false, 1000), [tab('B', true, 0)], undefined, 1e9)).toBeUndefined()
  })
})
