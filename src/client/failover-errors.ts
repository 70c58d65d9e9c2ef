/**
 * The errors the failover table (failover-policy.ts) names, with why in their messages: what an
 * app catches when a statement cannot be settled across a hand-off.
 */
import { ActiveTabLostError, NoActiveTabError, TransactionEndedError, WriteOutcomeUnknownError } from '../protocol/errors.js'
import type { Failure, FailureReason } from './failover-policy.js'

/** What a message says about the statement and the bounds it ran into. */
export interface FailureContext {
  /** Holders that went away with it in flight. */
  readonly losses: number
  readonly requestTimeoutMs: number
  /** How long it could go unanswered on a live line. */
  readonly answerBoundMs: number
  /** This tab's closing error (DatabaseClosedError, or what made the tab give up). */
  readonly closed: Error
}

export function failoverError(failure: Failure, reason: FailureReason, context: FailureContext): Error {
  switch (failure) {
    case 'transaction-lost':
      return transactionLost()
    case 'closed':
      return context.closed
    case 'lost-for-good':
      return new ActiveTabLostError(`This query is not sent to another tab: ${notSentAgain(reason, context)}`, {
        retryable: false,
      })
    case 'no-active-tab':
      return reason === 'no-answer'
        ? new NoActiveTabError(`The active tab did not answer this query within ${context.answerBoundMs} ms`)
        : new NoActiveTabError(`No tab could serve the database within ${context.requestTimeoutMs} ms (requestTimeoutMs)`)
    case 'outcome-unknown':
      switch (reason) {
        case 'may-have-ended-transaction':
          return outcomeUnknown('it may have ended its transaction (committing it), and raw SQL carries no operation id')
        case 'too-many-losses':
        case 'too-old':
          return outcomeUnknown(`it is not sent to another tab: ${notSentAgain(reason, context)}`)
        case 'tab-closed':
          return outcomeUnknown(`this tab stopped waiting for its answer (${context.closed.message})`)
        case 'no-answer':
          return outcomeUnknown(`no answer came within ${context.answerBoundMs} ms`, 'did not answer')
        case 'no-holder-in-time':
          return outcomeUnknown('no tab took over within requestTimeoutMs to settle it')
        case 'unrecorded':
        case 'transaction-rolled-back':
          return outcomeUnknown('raw SQL carries no operation id, so it cannot be retried safely')
      }
  }
}

function notSentAgain(reason: FailureReason, context: FailureContext): string {
  return reason === 'too-old'
    ? `it is older than requestTimeoutMs (${context.requestTimeoutMs} ms)`
    : `${context.losses} active tabs in a row went away while it was in flight, so it may be what brought them down`
}

export function transactionLost(): ActiveTabLostError {
  // Not always a tab going: a restarted coordinator's new election (even of the same tab) ends it too.
  return new ActiveTabLostError(
    'The database was handed over during this transaction (the active tab went away, or a restarted coordinator elected again); it was rolled back. Run it again.',
  )
}

export function transactionEnded(): TransactionEndedError {
  return new TransactionEndedError(
    'SQLite rolled this transaction back after one of its statements failed (INSERT OR ROLLBACK, RAISE(ROLLBACK), a full disk, an interrupted write); none of it is in the database. Run it again.',
  )
}

function outcomeUnknown(why: string, what = 'went away'): WriteOutcomeUnknownError {
  return new WriteOutcomeUnknownError(
    `The active tab ${what} while this write was in flight and ${why}; it may or may not have been applied`,
  )
}
