/**
 * The elections: whom (the preferred tab if it is a member, else as candidates.ts passes over), when
 * (never while the role is taken, nor while a restarted coordinator waits for the holder, see
 * holder-wait.ts) and how: the tab elected is told to activate, with a wall-clock time that orders
 * takeovers and whether to steal the role lock, and its worker must show progress within a bound
 * (heartbeat-watch.ts) or another is elected.
 */
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { JoinMessage } from '../protocol/coordinator-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import type { Candidates } from './candidates.js'
import type { BrowserEnv } from '../protocol/browser-env.js'
import type { HeartbeatWatch } from './heartbeat-watch.js'
import { HolderWait } from './holder-wait.js'
import type { LineTable } from './line-table.js'
import type { TabRegistry } from './tab-registry.js'
import { sendWorker } from './wire.js'

/** How long to wait before electing again after an elected tab could not open the files. */
const REELECT_DELAY_MS = 100
/**
 * The longest an elected worker may go without showing progress, whatever `hangTimeoutMs` its tab
 * claims: a worker that waits for the role lock or opens the files heartbeats at least every
 * second (see ACQUIRING_BEAT_MS in worker/role-acquisition.ts).
 */
const ELECTION_SILENCE_MS = 60_000

export interface ElectionSetup {
  readonly env: BrowserEnv
  readonly registry: TabRegistry
  readonly candidates: Candidates
  readonly lines: LineTable
  /** The database's role lock, held by the worker that has the files. */
  readonly roleLock: string | undefined
  /** This instance took over from a coordinator that fell silent. */
  readonly takenOver: boolean
  readonly log: DebugLog
}

export class Elector {
  readonly #setup: ElectionSetup
  /** The elected or active worker must show progress. */
  readonly #heartbeats: HeartbeatWatch
  /** After a restart: the worker that may still hold the files from before. */
  readonly #holder: HolderWait
  #preferred: string | undefined
  #steal = false
  /**
   * When the last election was sent (wall clock), only ever growing: it orders the markers of
   * tabs that took the files over from a hung holder (see worker/pool-generations.ts).
   */
  #lastElectionAt = 0
  #reelectTimer: ReturnType<typeof setTimeout> | undefined

  constructor(setup: ElectionSetup, heartbeats: HeartbeatWatch) {
    this.#setup = setup
    this.#heartbeats = heartbeats
    this.#holder = new HolderWait(setup.env, setup.roleLock, setup.takenOver, (steal) => {
      if (steal) this.#steal = true
      this.elect()
    })
  }

  /** The tab elected next if it is a member (a hand-off's target, or the holder after a restart). */
  get preferred(): string | undefined {
    return this.#preferred
  }

  prefer(tabId: string | undefined): void {
    this.#preferred = tabId
  }

  /** The next election steals the role lock: a hung or silent worker may hold it. */
  stealNext(): void {
    this.#steal = true
  }

  /** The elected worker opened the database: no lock to steal any more. */
  served(): void {
    this.#steal = false
  }

  /** A tab joined while the role is not served. */
  joined(join: JoinMessage): void {
    // Rejoining after a coordinator restart: the tab whose worker holds the files keeps the role.
    if (join.holder && !this.#setup.registry.active) this.holderClaimed(join.tabId)
    else if (join.epoch > 0) this.#holder.begin(join.hangTimeoutMs)
    this.elect()
  }

  /** `tabId`'s worker holds the files from before a restart: it is elected first (the caller elects). */
  holderClaimed(tabId: string): void {
    this.#preferred = tabId
    this.#holder.claimed(tabId)
  }

  /** Busy handles clear up once the previous holder is fully gone: elect again shortly, stealing. */
  retrySoon(): void {
    const env = this.#setup.env
    this.#steal = true
    env.clearTimeout(this.#reelectTimer)
    this.#reelectTimer = env.setTimeout(() => this.elect(), REELECT_DELAY_MS)
  }

  elect(): void {
    const { env, registry, lines } = this.#setup
    if (registry.active || this.#holder.waiting) return
    const election = this.#setup.candidates.pick(registry, this.#preferred)
    if (!election) return
    this.#setup.log('elect', { ...election, steal: this.#steal })
    this.#preferred = undefined
    sendWorker(lines.get(election.tabId)!.worker, {
      t: 'activate',
      v: PROTOCOL_VERSION,
      epoch: election.epoch,
      steal: this.#steal,
      at: (this.#lastElectionAt = Math.max(env.wallClock(), this.#lastElectionAt + 1)),
    })
    // The elected worker must show progress while it opens the database, or another is elected.
    this.#heartbeats.start(this.#holder.electionBound(election.tabId, this.#bound(election.tabId)))
  }

  /**
   * How long the tab elected may go without showing progress: its own `hangTimeoutMs` (its worker
   * heartbeats at that pace when busy), but no longer than ELECTION_SILENCE_MS, whatever it claims.
   */
  #bound(tabId: string): number {
    return Math.min(this.#setup.lines.get(tabId)!.hangTimeoutMs, ELECTION_SILENCE_MS)
  }
}
