/**
 * The warm standby (the `warmStandby` option): the worker of the tab next in line for the role
 * loads SQLite and rehearses it (see warm-up.ts), so a failover to that tab only has to open the
 * files; no longer next in line, it lets the loaded module go.
 *
 * Never beside this worker's own database (open, being opened, or being closed): the module's API
 * is not re-entrant across awaits, so a rehearsal must not run under a real database's statements.
 */
import type { DebugLog } from '../protocol/debug-log.js'
import type { DatabaseOpener } from './database-opener.js'

export class WarmStandby {
  readonly #enabled: boolean
  readonly #opener: DatabaseOpener
  /** The database is open, being opened (an activation is pending) or being closed. */
  readonly #usingModule: () => boolean
  readonly #log: DebugLog

  constructor(enabled: boolean, opener: DatabaseOpener, usingModule: () => boolean, log: DebugLog) {
    this.#enabled = enabled
    this.#opener = opener
    this.#usingModule = usingModule
    this.#log = log
  }

  /**
   * Next in line for the role (`on`), or no longer: with `warmStandby`, load and warm SQLite now
   * so a failover to this tab only has to open the files; or let it go again.
   */
  set(on: boolean): void {
    if (!this.#enabled || this.#usingModule()) return
    if (!on) {
      this.#log('no longer the warm standby')
      this.#opener.forget()
      return
    }
    const started = performance.now()
    this.#opener
      .warm(this.#usingModule)
      .then((storage) => storage && this.#log('warm standby ready', { storage, ms: Math.round(performance.now() - started) }))
      .catch((error: unknown) => this.#log('warm standby failed (a failover will load SQLite then)', { error: String(error) }))
  }
}
