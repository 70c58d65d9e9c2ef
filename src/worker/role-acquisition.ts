/**
 * Taking the role: the database's role Web Lock, then the files (database-opener.ts), one attempt
 * per activation. The lock is held until the files are closed again (`release`), and the browser
 * drops it if this worker dies. The files themselves admit one holder (a second
 * `createSyncAccessHandle` fails). A worker that steals the lock from a hung holder which keeps them
 * (a frozen tab) copies them away from it and serves the copy (see pool-generations.ts): what the
 * hung holder writes when it wakes lands in files no one reads again.
 *
 * A lock request cannot be withdrawn: an attempt abandoned or superseded while it waits lets the
 * lock go as soon as it is granted. Only the latest attempt moves the role state; it is current
 * while it is also not abandoned, and only a current attempt reports.
 */
import type { BrowserEnv } from '../protocol/browser-env.js'
import type { InitMessage } from '../protocol/own-worker-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import { StorageChoiceFailed, type DatabaseOpener } from './database-opener.js'
import { HEARTBEATS_PER_BOUND } from './role-freshness.js'
import type { RoleReports } from './role-reports.js'
import type { RoleStateMachine } from './role-state.js'
import type { SqliteEngine } from './sqlite-engine.js'
import type { StorageChoice } from './storage-choice.js'

/**
 * The longest gap between heartbeats while acquiring the role, whatever `hangTimeoutMs` is: the
 * coordinator gives an election up after 60 s of silence (ELECTION_SILENCE_MS in coordinator/elector.ts).
 */
const ACQUIRING_BEAT_MS = 1000

/** The browser's lock manager and timers (or a test's), for the role lock and heartbeats. */
export type AcquisitionEnv = Pick<BrowserEnv, 'locks' | 'setInterval' | 'clearInterval'>

/** What an attempt needs of the role it acquires (see active-database.ts). */
export interface ActivatingRole {
  /** The election this worker last took part in. */
  readonly epoch: number
  /** The files are open for the current epoch: serve them, and say so. */
  serve(engine: SqliteEngine, storage: StorageChoice, steal: boolean): void
  /** The lock was stolen (a hung-worker verdict about this one) while the files were open. */
  lost(): void
}

export class RoleAcquisition {
  readonly #init: Pick<InitMessage, 'roleLock' | 'hangTimeoutMs'>
  /** Where the role is in its lifecycle (see role-state.ts): the role's own, shared. */
  readonly #role: RoleStateMachine
  readonly #opener: DatabaseOpener
  readonly #reports: RoleReports
  readonly #activating: ActivatingRole
  readonly #log: DebugLog
  readonly #env: AcquisitionEnv
  /** Lock requests made by activations; only the latest may open the files. */
  #attempts = 0
  #releaseRole: (() => void) | undefined

  constructor(
    init: Pick<InitMessage, 'roleLock' | 'hangTimeoutMs'>,
    role: RoleStateMachine,
    opener: DatabaseOpener,
    reports: RoleReports,
    log: DebugLog,
    env: AcquisitionEnv,
    activating: ActivatingRole,
  ) {
    this.#init = init
    this.#role = role
    this.#opener = opener
    this.#reports = reports
    this.#activating = activating
    this.#log = log
    this.#env = env
  }

  /**
   * A new attempt for `epoch`: the role lock (taken from its holder with `steal`), then the files.
   * `sentAt` is when the coordinator elected this worker.
   */
  start(epoch: number, steal: boolean, sentAt: number): void {
    // Fetch and compile the wasm while waiting for the role lock, not after (once the storage is known).
    const known = this.#opener.known()
    if (known instanceof StorageChoiceFailed) {
      this.#reports.activateFailed(epoch, known.error)
      return
    }
    this.#role.to('acquiring')
    this.#acquire(++this.#attempts, steal, sentAt, known)
    // After the lock request, which the browser then grants while SQLite loads.
    if (known) this.#opener.preload(known)
  }

  /** The files are closed: let the role lock go. */
  release(): void {
    this.#releaseRole?.()
    this.#releaseRole = undefined
  }

  /** One activation attempt: the role lock, then the files. */
  #acquire(attempt: number, steal: boolean, sentAt: number, known: StorageChoice | undefined): void {
    const latest = () => attempt === this.#attempts
    const current = () => latest() && this.#role.state === 'acquiring'
    let opened = false
    // Progress while waiting for the lock and opening: the coordinator elects another if we go
    // silent. Silent, not stopped, while abandoned: a later election may take this attempt over.
    const env = this.#env
    const progress = env.setInterval(
      () => {
        if (!latest()) env.clearInterval(progress)
        else if (current()) this.#reports.heartbeat(this.#activating.epoch, 0)
      },
      Math.min(this.#init.hangTimeoutMs / HEARTBEATS_PER_BOUND, ACQUIRING_BEAT_MS),
    )
    /**
     * The attempt ends without the files (a stolen lock's rejection may come while it opens them,
     * so this may run twice); a current one says why.
     */
    const ended = (error?: unknown) => {
      env.clearInterval(progress)
      const report = current()
      const state = this.#role.state
      if (latest() && (state === 'acquiring' || state === 'abandoned')) this.#role.to('idle')
      if (report) this.#reports.activateFailed(this.#activating.epoch, error)
    }
    const options: LockOptions = steal ? { mode: 'exclusive', steal: true } : { mode: 'exclusive' }
    env.locks
      .request(this.#init.roleLock, options, async () => {
        // Abandoned or superseded while it waited for the lock: let it go at once.
        if (!current()) return ended()
        let opening: { storage: StorageChoice; engine: SqliteEngine }
        try {
          // Taken from a hung holder, which may keep the files (a frozen tab): the opener may copy
          // them away from it, and stops if this attempt stops being current meanwhile.
          const taker = steal
            ? { election: { epoch: this.#activating.epoch, at: sentAt }, current, silentMs: this.#init.hangTimeoutMs }
            : undefined
          opening = await this.#opener.open(known, taker)
        } catch (error) {
          return ended(error)
        }
        env.clearInterval(progress)
        if (!current()) {
          // Abandoned (deactivate) or superseded (a steal) while it opened: let the files go again.
          this.#log('opened the database too late: closing it again', { attempt })
          ended()
          await opening.engine.close().catch(() => {})
          return
        }
        opened = true // from here on, any failure lets the files go (deactivate)
        this.#activating.serve(opening.engine, opening.storage, steal)
        // Hold the role for as long as the files are open.
        await new Promise<void>((release) => (this.#releaseRole = release))
      })
      .catch((error: unknown) => {
        // Our lock was stolen: a hung-worker verdict was reached about us. Let the files go now.
        if (opened) this.#activating.lost()
        else ended(error)
      })
  }
}
