// Fake channels for a LinkEnv: BroadcastChannels in memory, a SharedWorker whose port the test
// answers for, and random ids counted up; on the manual clock and in-memory locks of fake-env.ts,
// with the tab workers of fake-tab-worker.ts and a storage persistence answer the test sets. And a
// CoordinatorEnv: the same clock, locks and channels.
import type { CoordinatorHostEnd, LinkEnv, SharedWorkerEnd } from '../../src/client/link-env.js'
import type { CoordinatorEnv } from '../../src/coordinator/coordinator-env.js'
import type { ChannelEnd, Line } from '../../src/protocol/line.js'
import { fakeEnv } from './fake-env.js'
import { FakeTabWorker } from './fake-tab-worker.js'

/**
 * BroadcastChannels in memory. As in a browser, a message goes to every other open channel of the
 * same name, never back to its sender, as a clone, in a later task; one posted before a channel
 * opens never reaches it. What a receiver throws is kept in `errors`, not thrown.
 */
export class ChannelHub {
  readonly #open = new Map<string, Set<HubChannel>>()
  readonly errors: unknown[] = []

  readonly open = (name: string): ChannelEnd => {
    const channel = new HubChannel(this, name)
    const members = this.#open.get(name) ?? new Set()
    members.add(channel)
    this.#open.set(name, members)
    return channel
  }

  /** Delivers `message` to every channel of `from`'s name open now, but `from`. */
  send(from: HubChannel, message: unknown): void {
    const data = structuredClone(message)
    for (const to of this.#open.get(from.name) ?? []) {
      if (to === from) continue
      setImmediate(() => {
        if (to.closed) return
        try {
          to.onmessage?.(new MessageEvent('message', { data }))
        } catch (error) {
          this.errors.push(error)
        }
      })
    }
  }

  leave(channel: HubChannel): void {
    this.#open.get(channel.name)?.delete(channel)
  }
}

class HubChannel implements ChannelEnd {
  onmessage: ((event: MessageEvent) => void) | null = null
  closed = false

  constructor(
    readonly hub: ChannelHub,
    readonly name: string,
  ) {}

  postMessage(message: unknown): void {
    if (!this.closed) this.hub.send(this, message)
  }

  close(): void {
    this.closed = true
    this.hub.leave(this)
  }
}

/** A SharedWorker's port as its page sees it: the test reads what was posted, and answers. */
export class FakePort implements Line {
  onmessage: ((event: MessageEvent) => void) | null = null
  readonly posted: unknown[] = []
  closed = false

  postMessage(message: unknown): void {
    if (!this.closed) this.posted.push(message)
  }

  start(): void {}

  close(): void {
    this.closed = true
  }

  /** The SharedWorker says `data` on this port. */
  answer(data: unknown): void {
    if (!this.closed) this.onmessage?.(new MessageEvent('message', { data }))
  }
}

export class FakeSharedWorker implements SharedWorkerEnd {
  readonly port = new FakePort()
  onerror: ((event: ErrorEvent) => void) | null = null

  /** The SharedWorker's script failed to load. */
  fail(): void {
    this.onerror?.({ preventDefault: () => {} } as ErrorEvent)
  }
}

/** The coordinator's DedicatedWorker as the tab that hosts it sees it. */
export class FakeHostWorker implements CoordinatorHostEnd {
  onerror: ((event: ErrorEvent) => void) | null = null
  terminated = false

  constructor(
    readonly url: string | URL | undefined,
    readonly name: string,
  ) {}

  terminate(): void {
    this.terminated = true
  }

  /** The coordinator ran and threw: an ErrorEvent with its message. */
  threw(message: string): void {
    if (!this.terminated) this.onerror?.({ message, preventDefault: () => {} } as unknown as ErrorEvent)
  }

  /** The script failed to load: a plain Event, with no message. */
  failToLoad(): void {
    if (!this.terminated) this.onerror?.({ preventDefault: () => {} } as unknown as ErrorEvent)
  }
}

/**
 * A LinkEnv on fakes. `workers` holds each SharedWorker started, newest last; with `sharedWorker:
 * false` the browser has none. `tabWorkers` holds each tab worker started, newest last, and
 * `hostWorkers` each coordinator this tab started to host the Web Locks one. `storage`
 * says whether the browser keeps the origin's storage (undefined: it cannot tell), and keeps each
 * question (true: asked to keep it).
 */
export function fakeLinkEnv(options: { sharedWorker?: boolean } = {}) {
  const { clock, locks, env: base } = fakeEnv()
  const hub = new ChannelHub()
  const workers: FakeSharedWorker[] = []
  const tabWorkers: FakeTabWorker[] = []
  const hostWorkers: FakeHostWorker[] = []
  const storage = { persisted: undefined as boolean | undefined, asked: [] as boolean[] }
  let ids = 0
  const env: LinkEnv = {
    ...base,
    openChannel: hub.open,
    startSharedWorker:
      options.sharedWorker === false
        ? undefined
        : () => {
            const worker = new FakeSharedWorker()
            workers.push(worker)
            return worker
          },
    randomId: () => `line-${String(++ids).padStart(4, '0')}`,
    startTabWorker: (url, name) => {
      const worker = new FakeTabWorker(url, name)
      tabWorkers.push(worker)
      return worker
    },
    startCoordinatorHost: (url, name) => {
      const worker = new FakeHostWorker(url, name)
      hostWorkers.push(worker)
      return worker
    },
    persistStorage: (ask) => {
      storage.asked.push(ask)
      return storage.persisted === undefined ? undefined : Promise.resolve(storage.persisted)
    },
  }
  return { clock, locks, hub, workers, tabWorkers, hostWorkers, storage, env }
}

/** A CoordinatorEnv on fakes: the manual clock and in-memory locks of fake-env.ts, channels on `hub`. */
export function fakeCoordinatorEnv() {
  const { clock, locks, env: base } = fakeEnv()
  const hub = new ChannelHub()
  const env: CoordinatorEnv = { ...base, openChannel: hub.open }
  return { clock, locks, hub, env }
}
