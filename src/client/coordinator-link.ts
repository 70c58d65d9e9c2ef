/**
 * How this tab reaches the serving coordinator, of either kind:
 *
 * - `shared-worker`: a port of the database's SharedWorker (lines to the active worker are
 *   MessagePorts).
 * - `web-locks`: the join channel (BroadcastChannel), answered by whichever coordinator holds the
 *   coordinator lock; the coordinator then runs in a DedicatedWorker of one tab, the holder of the
 *   host lock, and every tab queues for that lock to host it next (lines are channel lines).
 *
 * With `auto`, a SharedWorker that is missing, fails to load or does not answer in time gives
 * way to `web-locks`. A SharedWorker that finds a Web Locks coordinator already serving sends its
 * tabs to the join channel (`use-channel`), so all tabs of a database meet one coordinator.
 *
 * A Web Locks coordinator whose tab is frozen keeps its locks: the tabs watch it for silence
 * (coordinator-watch.ts), and one of them steals the host lock and starts a coordinator that
 * steals the coordinator lock; every tab joins that one.
 */
import { StorageUnavailableError } from '../protocol/errors.js'
import { PROTOCOL_VERSION } from '../protocol/message-fields.js'
import type { JoinMessage, LeftMessage, TabToCoordinator } from '../protocol/coordinator-messages.js'
import type { DatabaseNames } from '../protocol/names.js'
import { openLine, transferOf, type ChannelEnd, type Line, type LineRef } from '../protocol/line.js'
import type { DebugLog } from '../protocol/debug-log.js'
import { CoordinatorHost } from './coordinator-host.js'
import { CoordinatorWatch } from './coordinator-watch.js'
import { browserLinkEnv, type LinkEnv, type SharedWorkerEnd } from './link-env.js'

export type CoordinatorMode = 'auto' | 'shared-worker' | 'web-locks'
export type CoordinatorKind = 'shared-worker' | 'web-locks'

/**
 * How long a tab waits for the SharedWorker's welcome: `auto` then uses Web Locks instead, and
 * `coordinator: 'shared-worker'` joins a fresh one, SHARED_WORKER_TRIES times in all, after which
 * queries fail with StorageUnavailableError.
 */
export const SHARED_WORKER_START_MS = 4000
export const SHARED_WORKER_TRIES = 4

export interface LinkHandlers {
  /** A message from the coordinator. */
  readonly message: (data: unknown) => void
  /** The transport changed (`auto` fell back, or `use-channel`): join again, with a new worker line. */
  readonly switched: (reason: string) => void
  /** The coordinator cannot run at all. */
  readonly failed: (error: Error) => void
  /** Another tab said goodbye on the join channel (it may have hosted the coordinator). */
  readonly left: (tabId: string) => void
  /** The SharedWorker took a join and did not answer: join again, with a new worker line. */
  readonly unanswered: () => void
  /**
   * A coordinator took over from the silent one that welcomed this tab: join that one (`to`, its
   * lock), with a new worker line.
   */
  readonly moved: (to: string) => void
}

export class CoordinatorLink {
  readonly #mode: CoordinatorMode
  readonly #names: DatabaseNames
  readonly #url: string | URL | undefined
  readonly #log: DebugLog
  readonly #on: LinkHandlers
  /** Channels, the SharedWorker, timers, locks and clocks. */
  readonly #env: LinkEnv
  #kind: CoordinatorKind
  #line: Line | undefined
  #joinChannel: ChannelEnd | undefined
  /** The channel join not yet welcomed: sent again when a coordinator says it is `ready`. */
  #pendingJoin: JoinMessage | undefined
  #startTimer: ReturnType<typeof setTimeout> | undefined
  /** Joins sent to the SharedWorker since it last answered. */
  #sharedTries = 0
  /** Every join this tab sends (see JoinMessage.serial). */
  #joins = 0
  /** This tab's place in the queue to host the Web Locks coordinator. */
  readonly #host: CoordinatorHost
  /** The Web Locks coordinator that welcomed this tab, watched for silence. */
  readonly #watch: CoordinatorWatch
  #closed = false

  constructor(
    mode: CoordinatorMode,
    names: DatabaseNames,
    url: string | URL | undefined,
    hangTimeoutMs: number,
    log: DebugLog,
    on: LinkHandlers,
    env: LinkEnv = browserLinkEnv(),
  ) {
    this.#mode = mode
    this.#names = names
    this.#url = url
    this.#log = log
    this.#on = on
    this.#env = env
    this.#host = new CoordinatorHost(names, url, log, (error) => this.#on.failed(error), env)
    this.#watch = new CoordinatorWatch(
      hangTimeoutMs,
      names.takeOverLock,
      {
        post: (message) => this.#openJoinChannel().postMessage(message),
        move: (lock) => this.#moveTo(lock),
        takeOver: () => this.#host.takeOver(),
      },
      log,
      env,
    )
    if (mode === 'shared-worker' && !env.startSharedWorker) {
      throw new StorageUnavailableError("SharedWorker is not available in this browser; use coordinator: 'auto' or 'web-locks'")
    }
    this.#kind = mode === 'web-locks' || !env.startSharedWorker ? 'web-locks' : 'shared-worker'
  }

  /** Which coordinator this tab uses now. */
  get kind(): CoordinatorKind {
    return this.#kind
  }

  /** Whether lines handed to the coordinator may be MessagePorts. */
  get ports(): boolean {
    return this.#kind === 'shared-worker'
  }

  /** Joins (or joins again) on the current transport. */
  join(message: JoinMessage): void {
    if (this.#closed) return
    this.#dropLine()
    const numbered = { ...message, serial: ++this.#joins }
    if (this.#kind === 'shared-worker') this.#joinShared(numbered)
    else this.#joinChannelWay(numbered)
  }

  post(message: TabToCoordinator): void {
    const workerPort = (message as { workerPort?: LineRef }).workerPort
    this.#line?.postMessage(message, workerPort ? transferOf(workerPort) : [])
  }

  /**
   * Goodbye to the coordinator; stops hosting it. On the join channel too: if the coordinator runs
   * in this tab (its Web Locks host, or WebKit's SharedWorker), it dies with the tab before it can
   * tell anyone, and the others should know at once that this tab (perhaps the active one) closed
   * rather than wait to find out.
   */
  close(message: TabToCoordinator): void {
    // A tab whose worker failed has left already; destroy() then leaves again.
    if (this.#closed) return
    // The join channel first: in Firefox, posted after the goodbye to a coordinator hosted in this
    // tab, it reached no tab in 7 of 24 web-locks failover runs (every tab, 16 runs, when first).
    if (message.t === 'leave' && this.#joinChannel) {
      this.#joinChannel.postMessage({ t: 'left', v: PROTOCOL_VERSION, tabId: message.tabId } satisfies LeftMessage)
    }
    this.post(message)
    this.#closed = true
    this.#dropLine()
    this.#joinChannel?.close()
    this.#watch.stop()
    this.#host.close()
  }

  #joinShared(message: JoinMessage): void {
    let shared: SharedWorkerEnd
    try {
      // The kind is 'shared-worker' only where the env can start one.
      shared = this.#env.startSharedWorker!(this.#url, this.#names.coordinator)
    } catch (error) {
      this.#sharedFailed(`the SharedWorker could not start (${(error as Error).message})`)
      return
    }
    const port = shared.port
    this.#line = port
    shared.onerror = (event) => {
      event.preventDefault?.()
      if (this.#line === port) this.#sharedFailed('the coordinator (SharedWorker) script failed to load')
    }
    port.onmessage = (event) => {
      if (this.#line === port) this.#receive(event.data)
    }
    port.start()
    port.postMessage(message, transferOf(message.workerPort))
    this.#openJoinChannel()
    // A SharedWorker shutting down (WebKit ends it with the tab whose process ran it) may take a
    // join and never answer. `auto` then uses Web Locks; `shared-worker` asks a fresh one, a few
    // times, before giving up on it.
    const tries = ++this.#sharedTries
    this.#startTimer = this.#env.setTimeout(() => {
      if (this.#line !== port) return
      if (this.#mode !== 'auto' && tries < SHARED_WORKER_TRIES) this.#on.unanswered()
      else this.#sharedFailed(`the SharedWorker did not answer within ${SHARED_WORKER_START_MS * tries} ms`)
    }, SHARED_WORKER_START_MS)
  }

  #sharedFailed(reason: string): void {
    if (this.#mode === 'auto') this.#switch(reason)
    else this.#on.failed(new StorageUnavailableError(`The coordinator failed: ${reason}`))
  }

  #switch(reason: string): void {
    if (this.#closed || this.#kind === 'web-locks') return
    this.#log('coordinator: using Web Locks', { reason })
    this.#kind = 'web-locks'
    this.#dropLine()
    this.#on.switched(reason)
  }

  #joinChannelWay(message: JoinMessage): void {
    this.#host.queue()
    const name = this.#env.randomId()
    const line = openLine(name, this.#env.openChannel)
    this.#line = line
    line.onmessage = (event) => {
      if (this.#line === line) this.#receive(event.data)
    }
    this.#pendingJoin = { ...message, line: name }
    this.#watch.heard()
    this.#openJoinChannel().postMessage(this.#pendingJoin)
  }

  /**
   * The join channel: where a Web Locks coordinator takes joins, and where every tab, whatever its
   * coordinator, says goodbye. A SharedWorker coordinator may die with the tab that closes (WebKit
   * runs it in that tab's process), so the goodbye cannot go through it alone.
   */
  #openJoinChannel(): ChannelEnd {
    if (this.#joinChannel) return this.#joinChannel
    const channel = (this.#joinChannel = this.#env.openChannel(this.#names.joinChannel))
    channel.onmessage = (event: MessageEvent) => {
      const data = event.data as { t?: unknown; v?: unknown; tabId?: unknown; lock?: unknown }
      if (data?.v !== PROTOCOL_VERSION) return
      if (data.t === 'left' && typeof data.tabId === 'string') this.#on.left(data.tabId)
      if ((data.t !== 'ready' && data.t !== 'alive') || typeof data.lock !== 'string') return
      if (data.lock === this.#watch.instance) this.#watch.heard()
      else if (this.#pendingJoin && data.t === 'ready') {
        // Sent again; if addressed to a coordinator that never welcomed this tab, to this one.
        if (this.#pendingJoin.to !== undefined) this.#pendingJoin = { ...this.#pendingJoin, to: data.lock }
        channel.postMessage(this.#pendingJoin)
      } else if (data.t === 'ready' && this.#watch.instance && this.#kind === 'web-locks') {
        // A coordinator serves that did not welcome this tab: it took over from this tab's one.
        this.#moveTo(data.lock)
      } else {
        this.#watch.heardOther(data.lock)
      }
    }
    return channel
  }

  #moveTo(lock: string): void {
    this.#log('coordinator: joining the one that took over', { from: this.#watch.instance, to: lock })
    this.#on.moved(lock)
  }

  #receive(data: unknown): void {
    const t = (data as { t?: unknown })?.t
    if (t === 'use-channel') {
      this.#switch('a Web Locks coordinator already serves this database')
      return
    }
    // Any answer shows the coordinator is there: a `rejected` (another release) too, which must
    // not later pass for a silent SharedWorker and send this tab to the Web Locks way.
    this.#env.clearTimeout(this.#startTimer)
    this.#sharedTries = 0
    if (this.#kind === 'web-locks') this.#watch.heard()
    if (t === 'welcome') {
      this.#pendingJoin = undefined
      const lock = (data as { lock?: unknown }).lock
      if (this.#kind === 'web-locks' && typeof lock === 'string') this.#watch.welcomed(lock)
    }
    this.#on.message(data)
  }

  #dropLine(): void {
    this.#env.clearTimeout(this.#startTimer)
    this.#pendingJoin = undefined
    const line = this.#line
    this.#line = undefined
    line?.close()
  }
}
