/**
 * Whom an election passes over, and why. The registry elects the oldest tab not passed over;
 * these sets say whom to pass over first, and whom the role does not follow to when it follows
 * the user (see visibility-policy.ts).
 */
import type { Election, TabRegistry } from './tab-registry.js'

export class Candidates {
  /** Tabs that just failed (could not open, or hung), skipped at the next election. */
  readonly #failed = new Set<string>()
  /** Tabs that stepped down: elected only when no other tab will do (never counted as failed). */
  readonly #steppedDown = new Set<string>()
  /**
   * Tabs whose worker, once elected, never showed progress (a frozen tab, a bogus member): elected
   * again only when no other tab will do, until their worker opens the database. Each costs an
   * election at most one wait, however many elections follow.
   */
  readonly #distrusted = new Set<string>()
  /**
   * Tabs the role does not follow to: one that could not open the database when elected, or that
   * stepped down, until it is shown again (else a hand-off would go to it, and back, again and again).
   */
  readonly #notFollowed = new Set<string>()

  /** Elects `preferred` if it is a member, else the oldest tab, passing over whom it can. */
  pick(registry: TabRegistry, preferred: string | undefined): Election | undefined {
    if (this.#failed.size >= registry.size) this.#failed.clear()
    let election
    if (preferred && registry.has(preferred)) {
      election = registry.beginElection(new Set(registry.tabIds().filter((id) => id !== preferred)))
    }
    if (!election && (this.#steppedDown.size > 0 || this.#distrusted.size > 0))
      election = registry.beginElection(new Set([...this.#failed, ...this.#steppedDown, ...this.#distrusted]))
    return election ?? registry.beginElection(this.#failed)
  }

  /** The tab that would be elected next, for the warm standby. */
  nextInLine(registry: TabRegistry): string | undefined {
    return registry.nextInLine(new Set([...this.#failed, ...this.#distrusted]))
  }

  /** Whether the role may follow the user to `tabId`. */
  followable(tabId: string): boolean {
    return !this.#failed.has(tabId) && !this.#notFollowed.has(tabId)
  }

  /** Whether a tab that has not failed yet is left to try. */
  untried(registry: TabRegistry): boolean {
    return registry.size > this.#failed.size
  }

  /** Its worker reported it could not open the database. */
  couldNotOpen(tabId: string): void {
    this.#failed.add(tabId)
    this.#notFollowed.add(tabId)
  }

  /** Elected, its worker never showed progress. */
  silentWhenElected(tabId: string): void {
    this.#failed.add(tabId)
    this.#distrusted.add(tabId)
  }

  /** Serving, its worker stopped showing progress. */
  hung(tabId: string): void {
    this.#failed.add(tabId)
  }

  /** Its fenced worker was replaced by a fresh one. */
  freshWorker(tabId: string): void {
    this.#failed.delete(tabId)
  }

  /** It opened the database: whoever failed or stepped down may be elected again. */
  served(tabId: string): void {
    this.#failed.clear()
    this.#steppedDown.clear()
    this.#distrusted.delete(tabId)
  }

  /** It asked for the role (`manual`: its app did, not the visibility policy). */
  claimed(tabId: string, manual: boolean): void {
    if (manual) this.#notFollowed.delete(tabId)
    this.#steppedDown.delete(tabId)
  }

  steppedDown(tabId: string): void {
    this.#notFollowed.add(tabId)
    this.#steppedDown.add(tabId)
  }

  /** The page was shown. */
  shown(tabId: string): void {
    this.#notFollowed.delete(tabId)
  }

  gone(tabId: string): void {
    this.#failed.delete(tabId)
    this.#steppedDown.delete(tabId)
    this.#distrusted.delete(tabId)
    this.#notFollowed.delete(tabId)
  }
}
