/**
 * A tab's membership in one database: its liveness lock, its own worker, its line to the
 * coordinator (joined again when the coordinator restarts), its visibility, and what the
 * coordinator tells it: routes to the active worker (handed to the request router), the roster,
 * fences. It says goodbye when the page goes.
 */
import { pageVisible, watchVisibility } from './page-visibility.js'
import { StorageUnavailableError, deserializeError } from '../protocol/errors.js'
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import { parseCoordinatorToTab, type JoinMessage, type TabToCoordinator } from '../protocol/coordinator-messages.js'
import type { DatabaseNames } from '../protocol/names.js'
import type { TabIdentity } from '../protocol/tab-identity.js'
import type { DebugLog } from '../protocol/debug-log.js'
import { browserLinkEnv, type LinkEnv } from './link-env.js'
import type { ResolvedConfig } from '../dialect/options.js'
import { CoordinatorLink, type CoordinatorKind } from './coordinator-link.js'
import { openLine, type Line, type LineRef } from '../protocol/line.js'
import type { RequestRouter } from './request-router.js'
import { OwnWorker } from './own-worker.js'
import { TabStorage } from './tab-storage.js'
import type { TabEvents } from './tab-events.js'

const ASSET_HINT =
  ". With Vite's dev server, add optimizeDeps: { exclude: ['kysely-multitab-opfs'] }; if you serve the " +
  'package files elsewhere, set workerUrl / coordinatorUrl / wasmUrl'
const WORKER_CLOSE_TIMEOUT_MS = 3000

export class Membership {
  readonly #config: Readonly<ResolvedConfig>
  readonly #names: DatabaseNames
  readonly #router: RequestRouter
  readonly #events: TabEvents
  readonly #log: DebugLog
  readonly #identity: TabIdentity
  /** The goodbye of the active tab, heard on the join channel (a hint, see CoordinatorLink). */
  readonly #onLeft: (tabId: string) => void
  /** The tab is closing: nothing is started or joined again. */
  readonly #closed: () => boolean
  /** The browser, handed on to the coordinator link and the own worker too. */
  readonly #env: LinkEnv
  readonly worker: OwnWorker
  /** Where the active worker keeps the database, and whether the browser keeps it. */
  readonly storage: TabStorage
  #link: CoordinatorLink | undefined
  #coordinatorWatch: AbortController | undefined
  #releaseTabLock: (() => void) | undefined
  #tabLock = ''
  /** When this tab first joined a coordinator (see JoinMessage.since). */
  #joinedAt: number | undefined
  #roster: readonly string[] = []
  #stopWatchingVisibility: () => void = () => {}

  constructor(
    config: Readonly<ResolvedConfig>,
    names: DatabaseNames,
    identity: TabIdentity,
    router: RequestRouter,
    events: TabEvents,
    log: DebugLog,
    hooks: { onLeft: (tabId: string) => void; closed: () => boolean },
    env: LinkEnv = browserLinkEnv(),
  ) {
    this.#config = config
    this.#names = names
    this.#identity = identity
    this.#router = router
    this.#events = events
    this.#log = log
    this.#onLeft = hooks.onLeft
    this.#closed = hooks.closed
    this.#env = env
    this.storage = new TabStorage(config.filename, events)
    const onFailed = (message: string) => {
      router.close(new StorageUnavailableError(`The tab worker failed: ${message}${ASSET_HINT}`))
      this.leave()
    }
    this.worker = new OwnWorker(config, names, onFailed, env)
  }

  /** The tabs of this database, oldest first, as the coordinator last said. */
  get roster(): readonly string[] {
    return this.#roster
  }

  /** The coordinator in use, once joined. */
  get coordinator(): CoordinatorKind | undefined {
    return this.#link?.kind
  }

  /** Takes the liveness lock, starts the worker and joins the coordinator. */
  async join(): Promise<void> {
    const { coordinator, coordinatorUrl, hangTimeoutMs } = this.#config
    this.#link = new CoordinatorLink(
      coordinator,
      this.#names,
      coordinatorUrl,
      hangTimeoutMs,
      this.#log,
      {
        message: (data) => this.#onCoordinatorMessage(data),
        moved: (to) => this.#onCoordinatorDied(to),
        switched: (reason) => {
          this.#announceWebLocks(reason)
          this.#onCoordinatorDied()
        },
        left: (tabId) => this.#onLeft(tabId),
        unanswered: () => this.#onCoordinatorDied(),
        failed: (error) => {
          this.#router.close(new StorageUnavailableError(error.message + ASSET_HINT))
          this.leave()
        },
      },
      this.#env,
    )
    // Asked once, at start; the answer is reported by health().
    this.storage.askPersisted(this.#env, this.#config.persistentStorage)
    const tabLock = this.#names.tabLockPrefix + this.#identity.tabId
    // Held for the tab's whole life; the coordinator queues for it to learn when the tab is gone.
    await new Promise<void>((granted) => {
      void this.#env.locks.request(tabLock, () => {
        granted()
        return new Promise<void>((release) => (this.#releaseTabLock = release))
      })
    })
    if (this.#closed()) {
      this.#releaseTabLock?.()
      return
    }

    this.#tabLock = tabLock
    if (this.#link.kind === 'web-locks' && this.#config.coordinator === 'auto') {
      this.#announceWebLocks('SharedWorker is not available')
    }
    this.#joinCoordinator(this.worker.start(this.#identity.tabId, this.#link.ports))
    // Say goodbye while the page is going, so the others see 'closed' (not 'crashed') at once.
    globalThis.addEventListener?.('pagehide', this.#onPageHide)
    this.#stopWatchingVisibility = watchVisibility((visible) => {
      this.#log('visibility', { visible })
      this.#link?.post({ t: 'visibility', v: PROTOCOL_VERSION, tabId: this.#identity.tabId, visible })
    })
  }

  /** Sends `message` to the coordinator, if joined. */
  post(message: TabToCoordinator): void {
    this.#link?.post(message)
  }

  /** Says goodbye to the coordinator (the page goes, or the tab closes). */
  leave(): void {
    this.#coordinatorWatch?.abort()
    this.#link?.close({ t: 'leave', v: PROTOCOL_VERSION, tabId: this.#identity.tabId })
  }

  /** Closes the database if this tab's worker holds it (so the next tab can open it), then leaves. */
  async close(): Promise<void> {
    await this.worker.close(WORKER_CLOSE_TIMEOUT_MS)
    this.leave()
    globalThis.removeEventListener?.('pagehide', this.#onPageHide)
    this.#stopWatchingVisibility()
    this.worker.terminate({ forGood: true })
    this.#releaseTabLock?.()
  }

  readonly #onPageHide = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) return // kept in the back/forward cache
    this.leave()
    // WebKit keeps a closed page's DedicatedWorker running, with its Web Locks and files: the
    // next holder would wait for them forever. The page is going: end the worker with it.
    this.worker.terminate({ forGood: false })
  }

  /** `auto` chose the Web Locks coordinator, which serves as well: not a degraded fallback. */
  #announceWebLocks(reason: string): void {
    this.#events.emit('fallback', { what: 'coordinator', chosen: 'web-locks', reason, degraded: false })
  }

  /**
   * Joins the coordinator (starting it if no tab has) with this tab's worker line; `to`: the one
   * that took over from a silent one (see JoinMessage.to).
   */
  #joinCoordinator(workerPort: LineRef, to?: string): void {
    const join: JoinMessage = {
      t: 'join',
      v: PROTOCOL_VERSION,
      tabId: this.#identity.tabId,
      secret: this.#identity.secret,
      tabLock: this.#tabLock,
      workerPort,
      epoch: this.#router.highestEpoch,
      holder: this.#router.route?.activeTabId === this.#identity.tabId,
      since: (this.#joinedAt ??= this.#env.wallClock()),
      hangTimeoutMs: this.#config.hangTimeoutMs,
      visible: pageVisible(),
      ...(this.#config.hiddenHandoffMs === false ? {} : { hiddenHandoffMs: this.#config.hiddenHandoffMs }),
      debug: !!this.#config.debug,
      ...(to === undefined ? {} : { to }),
    }
    this.#log('join', { tabId: this.#identity.tabId, epoch: join.epoch, holder: join.holder, coordinator: this.#link!.kind })
    this.#link!.join(join)
  }

  /**
   * The coordinator's lifetime lock was granted to us: it died (its process crashed); or this tab
   * changed how it reaches the coordinator; or another coordinator took over from it (`to`). Join
   * the (new) one; the worker gets a fresh line to it.
   */
  #onCoordinatorDied(to?: string): void {
    if (this.#closed()) return
    // The next welcome watches the next coordinator; a coordinator taken over may never die.
    this.#coordinatorWatch?.abort()
    const coordinatorEnd = this.worker.reconnect(this.#link!.ports)
    if (!coordinatorEnd) return
    this.#log('joining the coordinator again', { to })
    this.#joinCoordinator(coordinatorEnd, to)
  }

  /**
   * The coordinator declared this tab's worker hung and gave the role to another tab. Terminating
   * the worker is what frees the OPFS files for the new active tab; a fresh worker takes its place
   * so this tab can be elected again later.
   */
  #replaceWorker(): void {
    if (this.#closed()) return
    const workerPort = this.worker.start(this.#identity.tabId, this.#link!.ports)
    this.#link?.post({ t: 'rejoin', v: PROTOCOL_VERSION, tabId: this.#identity.tabId, workerPort })
  }

  #onCoordinatorMessage(data: unknown): void {
    const message = parseCoordinatorToTab(data)
    if (!message) {
      this.#log('dropped a malformed message from the coordinator', { data })
      return
    }
    if (message.t !== 'roster' && message.t !== 'welcome') {
      const { token: _token, ...details } = message as { token?: string }
      this.#log(`coordinator: ${message.t}`, describe(details))
    }
    switch (message.t) {
      case 'route':
        this.storage.inUse(message.storage, message.storageReason)
        this.#router.setRoute(
          message.epoch,
          message.activeTabId,
          this.#routeLine(message.epoch, message.activeTabId, message.port, message.token),
          message.token,
          message.reason,
        )
        break
      case 'route-lost':
        this.#router.loseRoute(message.epoch, message.reason, message.error)
        break
      case 'fence':
        this.#replaceWorker()
        break
      case 'roster':
        this.#roster = Object.freeze([...message.tabIds])
        this.#events.emit('tabs-changed', { tabs: this.#roster, activeTabId: message.activeTabId })
        break
      case 'welcome': {
        // Granted when the serving coordinator is gone (it holds this lock while it serves).
        this.#coordinatorWatch?.abort()
        const watch = (this.#coordinatorWatch = new AbortController())
        this.#env.locks
          .request(message.lock, { signal: watch.signal }, () => {
            if (!watch.signal.aborted) this.#onCoordinatorDied()
          })
          .catch(() => {})
        break
      }
      case 'rejected':
        // Another release runs this database: this tab can do nothing with it, so it leaves (it
        // would otherwise stay queued to host a coordinator of its own release).
        this.#router.close(deserializeError(message.error))
        this.leave()
        break
    }
  }

  /**
   * The line of a route. To this tab's own worker it is the Worker channel itself (the worker
   * matches it to the route by its token), not the brokered port or BroadcastChannel line, which
   * is left unopened: see own-worker-line.ts.
   */
  #routeLine(epoch: number, activeTabId: string, ref: LineRef, token: string): Line {
    // A stale route is refused (and its line closed) by the router: it must not move the own line.
    const brokered = () => openLine(ref, this.#env.openChannel)
    if (activeTabId !== this.#identity.tabId || !this.#router.acceptsRoute(epoch)) return brokered()
    return this.worker.routeLine(ref, token) ?? brokered()
  }
}

/** A message's fields for the debug log, without its ports. */
function describe(message: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(message)) if (!(value instanceof MessagePort)) out[key] = value
  return out
}
