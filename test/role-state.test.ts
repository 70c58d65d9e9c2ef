import { describe, expect, it } from 'vitest'
import { RoleStateMachine, type RoleState } from '../src/worker/role-state.js'

const STATES: RoleState[] = ['idle', 'acquiring', 'abandoned', 'serving', 'draining', 'closing']

/** Brings a machine to `state` along the usual path. */
function at(state: RoleState): RoleStateMachine {
  const role = new RoleStateMachine()
  const path: Record<RoleState, RoleState[]> = {
    idle: [],
    acquiring: ['acquiring'],
    abandoned: ['acquiring', 'abandoned'],
    serving: ['acquiring', 'serving'],
    draining: ['acquiring', 'serving', 'draining'],
    closing: ['acquiring', 'serving', 'closing'],
  }
  for (const next of path[state]) role.to(next)
  return role
}

describe('role state machine', () => {
  it('goes idle -> acquiring -> serving -> draining -> closing -> idle', () => {
    const role = new RoleStateMachine()
    const seen: Array<[RoleState, boolean, boolean]> = []
    for (const next of ['acquiring', 'serving', 'draining', 'closing', 'idle'] as const) {
      role.to(next)
      seen.push([role.state, role.busy, role.leaving])
    }
    expect(seen).toEqual([
      ['acquiring', true, false],
      ['serving', true, false],
      ['draining', true, true],
      ['closing', true, true],
      ['idle', false, false],
    ])
  })

  it('allows exactly the moves of the lifecycle', () => {
    const allowed = new Set([
      'idle>acquiring',
      'acquiring>acquiring', // a steal supersedes the attempt under way
      'acquiring>abandoned',
      'acquiring>serving',
      'acquiring>idle',
      'abandoned>acquiring', // a later election takes the pending attempt over
      'abandoned>idle',
      'serving>draining',
      'serving>closing',
      'draining>closing',
      'closing>idle',
    ])
    for (const from of STATES) {
      for (const to of STATES) {
        const role = at(from)
        if (allowed.has(`${from}>${to}`)) {
          role.to(to)
          expect(role.state).toBe(to)
        } else {
          expect(() => role.to(to), `${from} -> ${to}`).toThrow(`no way from ${from} to ${to}`)
          expect(role.state).toBe(from)
        }
      }
    }
  })

  it('never serves twice without closing, and an abandoned attempt never serves', () => {
    expect(() => at('serving').to('serving')).toThrow()
    expect(() => at('abandoned').to('serving')).toThrow()
    expect(() => at('draining').to('idle')).toThrow()
  })
})
