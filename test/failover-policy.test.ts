import { describe, expect, it } from 'vitest'
import { failoverFate, MAX_LOSSES, type FailoverEvent, type InFlight } from '../src/client/failover-policy.js'

const base: InFlight = {
  kind: 'read',
  inTransaction: false,
  diesWithTransaction: false,
  maybeApplied: false,
  sent: true,
  losses: 0,
  old: false,
  transactionGone: false,
}
const fate = (statement: Partial<InFlight>, event: FailoverEvent) => failoverFate({ ...base, ...statement }, event)

describe('failoverFate: the rows of docs/failover.md', () => {
  it('a read is sent again; a write outside a transaction is asked about (the ledger answers)', () => {
    expect(fate({ kind: 'read' }, 'holder-lost')).toEqual({ then: 'send' })
    expect(fate({ kind: 'recorded' }, 'holder-lost')).toEqual({ then: 'ask' })
  })

  it("a transaction's statements die with it; its COMMIT is asked about", () => {
    const inTx = { inTransaction: true, diesWithTransaction: true }
    expect(fate({ ...inTx, kind: 'read' }, 'holder-lost')).toMatchObject({ error: 'transaction-lost' })
    expect(fate({ ...inTx, kind: 'unrecorded' }, 'holder-lost')).toMatchObject({ error: 'transaction-lost' })
    expect(fate({ kind: 'commit', inTransaction: true }, 'holder-lost')).toEqual({ then: 'ask' })
    // Raw SQL that may have committed the transaction itself.
    expect(fate({ kind: 'unrecorded', inTransaction: true }, 'holder-lost')).toMatchObject({
      error: 'outcome-unknown',
      reason: 'may-have-ended-transaction',
    })
  })

  it('what cannot be recorded is never run twice', () => {
    expect(fate({ kind: 'unrecorded' }, 'holder-lost')).toMatchObject({ error: 'outcome-unknown', reason: 'unrecorded' })
  })

  it(`nothing is sent again after ${MAX_LOSSES} losses, nor a read older than requestTimeoutMs`, () => {
    expect(fate({ kind: 'read', losses: MAX_LOSSES - 2 }, 'holder-lost')).toEqual({ then: 'send' })
    expect(fate({ kind: 'read', losses: MAX_LOSSES - 1 }, 'holder-lost')).toMatchObject({ error: 'lost-for-good' })
    expect(fate({ kind: 'recorded', losses: MAX_LOSSES - 1 }, 'holder-lost')).toMatchObject({ error: 'outcome-unknown' })
    expect(fate({ kind: 'read', old: true }, 'holder-lost')).toMatchObject({ error: 'lost-for-good', reason: 'too-old' })
    // A write is not given up for age: the next ledger settles it.
    expect(fate({ kind: 'recorded', old: true }, 'holder-lost')).toEqual({ then: 'ask' })
  })

  it('a refused statement did not run: sent again, unless its transaction is gone', () => {
    expect(fate({ kind: 'recorded' }, 'refused')).toEqual({ then: 'send' })
    expect(fate({ kind: 'recorded', maybeApplied: true }, 'refused')).toEqual({ then: 'ask' })
    expect(fate({ kind: 'read', inTransaction: true }, 'refused')).toMatchObject({ error: 'transaction-lost' })
    expect(fate({ kind: 'commit', inTransaction: true, maybeApplied: true }, 'refused')).toEqual({ then: 'ask' })
  })

  it('a statement waiting for a route: its transaction gone, it fails; a COMMIT being asked goes on', () => {
    expect(fate({ kind: 'read', inTransaction: true, transactionGone: true, sent: false }, 'new-holder')).toMatchObject({
      error: 'transaction-lost',
    })
    expect(
      fate({ kind: 'commit', inTransaction: true, transactionGone: true, maybeApplied: true, sent: false }, 'new-holder'),
    ).toEqual({
      then: 'ask',
    })
  })

  it('destroy(): a write already sent may still be applied; the rest is closed', () => {
    expect(fate({ kind: 'recorded' }, 'tab-closed')).toMatchObject({ error: 'outcome-unknown' })
    expect(fate({ kind: 'read' }, 'tab-closed')).toMatchObject({ error: 'closed' })
    expect(fate({ kind: 'recorded', sent: false }, 'tab-closed')).toMatchObject({ error: 'closed' })
    expect(fate({ kind: 'recorded', sent: false, maybeApplied: true }, 'tab-closed')).toMatchObject({ error: 'outcome-unknown' })
    expect(fate({ kind: 'read', inTransaction: true, diesWithTransaction: true }, 'tab-closed')).toMatchObject({
      error: 'closed',
    })
    expect(fate({ kind: 'commit', inTransaction: true }, 'tab-closed')).toMatchObject({ error: 'outcome-unknown' })
  })

  it('no answer, or no holder in time: a read fails as NoActiveTab, a write that may have run as unknown', () => {
    expect(fate({ kind: 'read' }, 'no-answer')).toMatchObject({ error: 'no-active-tab' })
    expect(fate({ kind: 'recorded' }, 'no-answer')).toMatchObject({ error: 'outcome-unknown' })
    expect(fate({ kind: 'recorded', sent: false }, 'no-holder-in-time')).toMatchObject({ error: 'no-active-tab' })
    expect(fate({ kind: 'recorded', sent: false, maybeApplied: true }, 'no-holder-in-time')).toMatchObject({
      error: 'outcome-unknown',
    })
  })
})

/**
 * Every statement the router can describe, with every event that can happen to it: a statement
 * on a live line can lose its holder, be refused, go unanswered or be closed; one waiting for a
 * route can get one, run out of time or be closed.
 */
function* everything(): Generator<[InFlight, FailoverEvent]> {
  const onLine: FailoverEvent[] = ['holder-lost', 'refused', 'no-answer', 'tab-closed']
  const waiting: FailoverEvent[] = ['new-holder', 'no-holder-in-time', 'tab-closed']
  for (const kind of ['read', 'recorded', 'unrecorded', 'commit'] as const)
    // An operation id goes only with a write outside a transaction, and with a COMMIT.
    for (const inTransaction of kind === 'commit' ? [true] : kind === 'recorded' ? [false] : [false, true])
      for (const diesWithTransaction of inTransaction && kind !== 'commit' ? [false, true] : [false])
        // Only what carries an operation id is ever sent as a retry.
        for (const maybeApplied of kind === 'recorded' || kind === 'commit' ? [false, true] : [false])
          for (const sent of [false, true])
            for (let losses = 0; losses < MAX_LOSSES; losses++)
              for (const old of [false, true])
                for (const transactionGone of inTransaction ? [false, true] : [false])
                  for (const event of sent ? onLine : waiting)
                    yield [{ kind, inTransaction, diesWithTransaction, maybeApplied, sent, losses, old, transactionGone }, event]
}

describe('failoverFate: promises that hold for every statement and event', () => {
  const all = [...everything()]

  it('covers every combination', () => {
    // Per kind: its transaction and retry states, x (4 events on a line + 3 waiting) x losses x age.
    const states = { read: 1 + 2 * 2, recorded: 2, unrecorded: 1 + 2 * 2, commit: 2 * 2 }
    const total = Object.values(states).reduce((a, b) => a + b, 0) * (4 + 3) * MAX_LOSSES * 2
    expect(all.length).toBe(total)
  })

  it('a write that may have been applied never fails as if it had not been (closed, no active tab)', () => {
    for (const [statement, event] of all) {
      const f = failoverFate(statement, event)
      const mayHaveRun = statement.kind !== 'read' && (statement.maybeApplied || (statement.sent && event !== 'refused'))
      if (f.then !== 'fail' || !mayHaveRun) continue
      // Unless it surely died with its transaction (rolled back with the holder, or with this
      // tab's lease when it closes): nothing of it is there.
      if (statement.inTransaction && statement.diesWithTransaction && ['transaction-lost', 'closed'].includes(f.error)) continue
      expect(f.error, JSON.stringify([statement, event])).toBe('outcome-unknown')
    }
  })

  it('only a read is sent again as it is after its holder went away; a write is asked about', () => {
    for (const [statement, event] of all) {
      const f = failoverFate(statement, event)
      if (event === 'holder-lost' && f.then === 'send') expect(statement.kind).toBe('read')
      if (f.then === 'send') expect(statement.maybeApplied).toBe(false)
    }
  })

  it('nothing goes on after this tab closed or a bound ran out', () => {
    for (const [statement, event] of all) {
      if (event === 'tab-closed' || event === 'no-answer' || event === 'no-holder-in-time') {
        expect(failoverFate(statement, event).then).toBe('fail')
      }
    }
  })

  it(`nothing that can be resent is sent to a ${MAX_LOSSES}th holder after losing ${MAX_LOSSES}, a COMMIT aside (its next holder only answers from its ledger)`, () => {
    for (const [statement, event] of all) {
      if (event !== 'holder-lost' || statement.losses + 1 < MAX_LOSSES || statement.kind === 'commit') continue
      expect(failoverFate(statement, event).then).toBe('fail')
    }
  })

  it('no statement of a transaction runs on another holder: it fails, or (its COMMIT) is only asked about', () => {
    for (const [statement, event] of all) {
      if (!statement.inTransaction) continue
      const f = failoverFate(statement, event)
      if (f.then === 'send') expect(event === 'refused' || event === 'new-holder').toBe(true)
      if (event === 'holder-lost' || (event === 'refused' && !statement.maybeApplied))
        expect(f.then === 'fail' || statement.kind === 'commit').toBe(true)
      if (event === 'new-holder' && statement.transactionGone && !(statement.kind === 'commit' && statement.maybeApplied)) {
        expect(f).toMatchObject({ then: 'fail', error: 'transaction-lost' })
      }
    }
  })

  it("'lost-for-good' is a read's error only", () => {
    for (const [statement, event] of all) {
      const f = failoverFate(statement, event)
      if (f.then === 'fail' && f.error === 'lost-for-good') expect(statement.kind).toBe('read')
    }
  })
})
