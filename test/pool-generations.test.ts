import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  dataName,
  liveOf,
  markerName,
  nextNumber,
  parseMarker,
  prunable,
  ROOT,
  type Election,
} from '../src/worker/pool-generations.js'

const election = (at: number, epoch = 1): Election => ({ at, epoch })

describe('pool generations', () => {
  it('serves the pool directory itself until a taker marks something', () => {
    expect(liveOf({ directories: [] })).toEqual({ target: ROOT, marker: undefined })
    // A copy not yet marked is not live.
    expect(liveOf({ directories: [dataName(1, 'abc')] }).target).toBe(ROOT)
  })

  it('takes the greatest marker by number, then election time, then epoch', () => {
    const copy = dataName(2, 'x')
    const directories = [copy, markerName(1, ROOT, election(500)), markerName(2, copy, election(100, 3))]
    expect(liveOf({ directories }).target).toBe(copy)
    const tied = [copy, markerName(2, ROOT, election(100, 4)), markerName(2, copy, election(100, 3))]
    expect(liveOf({ directories: tied }).target).toBe(ROOT)
    const later = [copy, markerName(2, ROOT, election(99, 9)), markerName(2, copy, election(100, 3))]
    expect(liveOf({ directories: later }).target).toBe(copy)
  })

  it('passes over a marker whose copy is gone', () => {
    const directories = [markerName(1, ROOT, election(1)), markerName(2, dataName(2, 'gone'), election(2))]
    expect(liveOf({ directories }).target).toBe(ROOT)
  })

  it('numbers a taker above every marker and copy it saw', () => {
    expect(nextNumber({ directories: [] })).toBe(1)
    expect(nextNumber({ directories: [markerName(3, ROOT, election(1)), dataName(5, 'a'), 'unrelated'] })).toBe(6)
  })

  it('reads back the markers it makes, and nothing else', () => {
    expect(parseMarker(markerName(7, dataName(7, 'q1'), election(1234.9, 2)))).toMatchObject({
      n: 7,
      at: 1234,
      epoch: 2,
      target: 'd-7-q1',
    })
    for (const name of ['m.1.2.3', 'm.1.2.3.d-x', 'm.a.2.3.root', 'x.1.2.3.root', 'm.1.2.3.root/..']) {
      expect(parseMarker(name)).toBeUndefined()
    }
  })

  it('prunes the markers below the live one and the copies numbered below it, never one that may be a later taker’s', () => {
    const live = dataName(4, 'live')
    const directories = [
      dataName(2, 'old'),
      live,
      dataName(4, 'stale'),
      dataName(5, 'copying'),
      markerName(2, dataName(2, 'old'), election(10)),
      markerName(3, ROOT, election(20)),
      markerName(4, live, election(30)),
    ]
    expect(prunable({ directories }, liveOf({ directories })).sort()).toEqual(
      [dataName(2, 'old'), markerName(2, dataName(2, 'old'), election(10)), markerName(3, ROOT, election(20))].sort(),
    )
    // Unmarked: nothing is known to be old.
    expect(prunable({ directories: [dataName(1, 'a')] }, liveOf({ directories: [dataName(1, 'a')] }))).toEqual([])
  })

  it('a copier’s late marker never outranks a later taker’s, whatever either saw', () => {
    const layout = fc.array(
      fc.oneof(
        fc.tuple(fc.nat(20), fc.nat(1000)).map(([n, at]) => markerName(n + 1, ROOT, election(at))),
        fc.nat(20).map((n) => dataName(n + 1, 'c')),
      ),
      { maxLength: 6 },
    )
    fc.assert(
      fc.property(layout, layout, fc.nat(1000), fc.integer({ min: 1, max: 1000 }), (seenByA, added, atA, later) => {
        // A looked, then froze; B looked later (everything A saw, and more), by a later election.
        const a = nextNumber({ directories: seenByA })
        const seenByB = [...seenByA, ...added]
        const b = nextNumber({ directories: seenByB })
        const copyA = dataName(a, 'aaaa')
        const copyB = dataName(b, 'bbbb')
        const directories = [
          ...seenByB,
          copyB,
          markerName(b, copyB, election(atA + later, 2)),
          // A's marker, made when it resumed
          copyA,
          markerName(a, copyA, election(atA, 1)),
        ]
        expect(liveOf({ directories }).target).toBe(copyB)
        expect(prunable({ directories }, liveOf({ directories }))).not.toContain(copyB)
      }),
    )
  })
})
