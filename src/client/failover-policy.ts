/**
 * The failover table as one function: what becomes of a statement this tab sent (or was about to
 * send) when something happens to the active tab serving it. Pure: the router describes the
 * statement and the event, applies the fate, and makes the error it names. docs/failover.md is
 * this table in words.
 */

/** Holders a statement may lose while in flight before it is no longer sent again. */
export const MAX_LOSSES = 3

/** What a statement is, as far as a failover is concerned. */
export interface InFlight {
  /**
   * `read`: resent as it is. `recorded`: a write with an operation id (the next holder's ledger
   * says whether it was applied). `unrecorded`: raw SQL or a file operation with none. `commit`:
   * a transaction's COMMIT, recorded inside the transaction.
   */
  readonly kind: 'read' | 'recorded' | 'unrecorded' | 'commit'
  /** It belongs to a transaction open on the holder's connection. */
  readonly inTransaction: boolean
  /** In a transaction, it cannot have ended the transaction itself, so it died with it. */
  readonly diesWithTransaction: boolean
  /** It reached a holder that went away without answering: it may have been applied. */
  readonly maybeApplied: boolean
  /** It is on a live line now (else it waits for a route). */
  readonly sent: boolean
  /** Holders that went away with it in flight before this event. */
  readonly losses: number
  /** It is older than `requestTimeoutMs`. */
  readonly old: boolean
  /** Its transaction ran on a holder that is gone (asked when a new route comes). */
  readonly transactionGone: boolean
}

/**
 * `holder-lost`: the holder it was sent to went away without answering. `refused`: the holder
 * did not run it (it is handing over). `new-holder`: a route came while it waited. `tab-closed`:
 * this tab's Kysely was destroyed. `no-answer`: no answer on a live line within the bound.
 * `no-holder-in-time`: no route within `requestTimeoutMs`.
 */
export type FailoverEvent = 'holder-lost' | 'refused' | 'new-holder' | 'tab-closed' | 'no-answer' | 'no-holder-in-time'

/** The error a statement fails with, by what the app can do about it. */
export type Failure =
  /** ActiveTabLostError, retryable: its transaction was rolled back. */
  | 'transaction-lost'
  /** ActiveTabLostError, not retryable: a read that may be what brought the holders down. */
  | 'lost-for-good'
  /** WriteOutcomeUnknownError: it may or may not have been applied. */
  | 'outcome-unknown'
  /** NoActiveTabError: nobody served it, and nothing of it was applied. */
  | 'no-active-tab'
  /** The tab's own closing error (DatabaseClosedError): nothing of it was applied. */
  | 'closed'

/** Why a statement fails, for its message. */
export type FailureReason =
  | 'transaction-rolled-back'
  | 'may-have-ended-transaction'
  | 'unrecorded'
  | 'too-many-losses'
  | 'too-old'
  | 'tab-closed'
  | 'no-answer'
  | 'no-holder-in-time'

export type Fate =
  /** Send it to the next holder as it is (queued until there is one). */
  | { readonly then: 'send' }
  /** Send it to the next holder marked as a retry: its ledger answers, or it applies it. */
  | { readonly then: 'ask' }
  | { readonly then: 'fail'; readonly error: Failure; readonly reason: FailureReason }

const SEND: Fate = { then: 'send' }
const ASK: Fate = { then: 'ask' }
const fail = (error: Failure, reason: FailureReason): Fate => ({ then: 'fail', error, reason })

/** What becomes of `statement` when `event` happens. */
export function failoverFate(statement: InFlight, event: FailoverEvent): Fate {
  const { kind, inTransaction, maybeApplied } = statement
  switch (event) {
    case 'holder-lost':
      // Its answer is lost: did the holder commit? The next one's ledger knows.
      if (kind === 'commit') return ASK
      if (inTransaction) {
        return statement.diesWithTransaction
          ? fail('transaction-lost', 'transaction-rolled-back')
          : fail('outcome-unknown', 'may-have-ended-transaction')
      }
      if (kind === 'unrecorded') return fail('outcome-unknown', 'unrecorded')
      // Not sent again if it may be what brought the holders down.
      if (statement.losses + 1 >= MAX_LOSSES || (kind === 'read' && statement.old)) {
        const reason = kind === 'read' && statement.old ? 'too-old' : 'too-many-losses'
        return kind === 'read' ? fail('lost-for-good', reason) : fail('outcome-unknown', reason)
      }
      return kind === 'read' ? SEND : ASK
    case 'refused':
      // It did not run there; a transaction's statement cannot run anywhere else.
      if (inTransaction && !maybeApplied) return fail('transaction-lost', 'transaction-rolled-back')
      return maybeApplied ? ASK : SEND
    case 'new-holder':
      // A COMMIT whose fate is asked goes on; the rest of a transaction died with its holder.
      if (statement.transactionGone && !(kind === 'commit' && maybeApplied)) {
        return fail('transaction-lost', 'transaction-rolled-back')
      }
      return maybeApplied ? ASK : SEND
    case 'tab-closed':
      if (!statement.sent) return maybeApplied ? fail('outcome-unknown', 'tab-closed') : fail('closed', 'tab-closed')
      // Sent: a write may still be applied by the holder it reached; a statement of a transaction
      // is rolled back with this tab's lease, unless it could have ended the transaction itself.
      if (kind === 'read' || (inTransaction && statement.diesWithTransaction && kind !== 'commit')) {
        return fail('closed', 'tab-closed')
      }
      return fail('outcome-unknown', 'tab-closed')
    case 'no-answer':
      return kind === 'read' ? fail('no-active-tab', 'no-answer') : fail('outcome-unknown', 'no-answer')
    case 'no-holder-in-time':
      return maybeApplied ? fail('outcome-unknown', 'no-holder-in-time') : fail('no-active-tab', 'no-holder-in-time')
  }
}
