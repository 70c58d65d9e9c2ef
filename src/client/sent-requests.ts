/**
 * This tab's statements sent on a live line and not answered yet, by request id. The router puts
 * each in as it posts it; it leaves exactly once: with its answer (a result or an error settles it
 * here, a refusal hands it back to the router to send on), when its holder goes, when the tab
 * closes, or when its answer bound (AnswerClock) has passed, which a file operation does not have.
 * A reply for a request no longer in here (given up already) changes nothing. The sweep timer runs
 * while requests are in here, and stops at the first sweep that finds none.
 */
import { AnswerClock } from './answer-clock.js'
import type { LeaseBook } from './lease-book.js'
import type { PendingRequest } from './pending-request.js'
import type { BrowserEnv } from '../protocol/browser-env.js'
import { LeaseTimeoutError, deserializeError } from '../protocol/errors.js'
import type { ExecError, ExecRefused, ExecResult } from '../protocol/statement-messages.js'

export class SentRequests {
  readonly #requests = new Map<number, PendingRequest>()
  /** Told by each answer whether it left a transaction open on its lease, and of leases whose holder went away. */
  readonly #leases: LeaseBook
  /** Called with each request past its answer bound, no longer in here. */
  readonly #overdue: (request: PendingRequest) => void
  /** The answer bound: how many sweeps each request may stay, and the sweeps' timer. */
  readonly answers: AnswerClock

  /** See AnswerClock for `answerTimeoutMs` and `statementTimeoutMs`. */
  constructor(
    leases: LeaseBook,
    answerTimeoutMs: number,
    statementTimeoutMs: number,
    overdue: (request: PendingRequest) => void,
    env: Pick<BrowserEnv, 'setInterval' | 'clearInterval'>,
  ) {
    this.#leases = leases
    this.#overdue = overdue
    this.answers = new AnswerClock(answerTimeoutMs, statementTimeoutMs, () => this.#sweep(), env)
  }

  /** How many are in here. */
  get size(): number {
    return this.#requests.size
  }

  /** `request` is being posted to the holder of `epoch`: its answer bound starts now. */
  add(request: PendingRequest, epoch: number): void {
    request.epoch = epoch
    request.sweeps = 0
    this.#requests.set(request.id, request)
    this.answers.start()
  }

  /**
   * Settles the request `reply` answers (a result or an error), noting on its lease whether a
   * transaction is open. A refused request (its holder did not run it) is returned instead, unsettled,
   * for the router to send on.
   */
  answer(reply: ExecResult | ExecError | ExecRefused): PendingRequest | undefined {
    const request = typeof reply?.id === 'number' ? this.#requests.get(reply.id) : undefined
    if (!request) return undefined
    this.#requests.delete(reply.id)
    if (reply.t === 'result') {
      this.#leases.noteTransaction(request.lease, reply.tx === true, false, request.commit)
      request.resolve(reply)
    } else if (reply.t === 'error') {
      // A failed text may have opened a transaction, or SQLite may have ended one (rolled back).
      // A retried COMMIT's "not committed" comes from a holder that never had the transaction.
      const error = deserializeError(reply.error)
      // A lease revoked for its idle time was rolled back by the worker: its next statements get
      // the LeaseTimeoutError it remembers, not a TransactionEndedError.
      if (!(error instanceof LeaseTimeoutError))
        this.#leases.noteTransaction(request.lease, reply.tx === true, true, request.commit)
      request.reject(error)
    } else if (reply.t === 'refused') return request
    return undefined
  }

  /**
   * The requests last sent to the holder of `epoch`, which went away without answering them: their
   * leases go on with the next holder, unless pinned (LeaseBook.moveOn).
   */
  takeSentOn(epoch: number): PendingRequest[] {
    const lost: PendingRequest[] = []
    // Deleting the entry a Map iteration is on is safe: the iteration goes on with the next.
    for (const request of this.#requests.values()) {
      if (request.epoch !== epoch) continue
      this.#requests.delete(request.id)
      this.#leases.moveOn(request.lease)
      lost.push(request)
    }
    return lost
  }

  /** Every request, as the tab is closing; the sweeps stop. */
  takeAll(): PendingRequest[] {
    const all = [...this.#requests.values()]
    this.#requests.clear()
    this.answers.stop()
    return all
  }

  /** Hands over the requests in flight for longer than their answer bound; stops when none is. */
  #sweep(): void {
    if (this.#requests.size === 0) {
      this.answers.stop()
      return
    }
    for (const request of [...this.#requests.values()]) {
      // The file operations (import, export, delete, check) have no statement limit to bound them.
      if (request.admin || ++request.sweeps <= request.maxSweeps) continue
      this.#requests.delete(request.id)
      this.#overdue(request)
    }
  }
}
