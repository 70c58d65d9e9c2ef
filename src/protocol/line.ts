/**
 * A line: a two-ended message channel between two runtimes. Under the SharedWorker coordinator a
 * line is a MessagePort (brokered by the coordinator, fastest); under the Web Locks coordinator
 * there is no shared runtime to hand ports through, so a line is a BroadcastChannel whose random
 * name only its two ends know. Coordinator, client and worker code speak to a {@link Line} and do
 * not know which it is.
 */

/** What every runtime needs of a line; a MessagePort is one. */
export interface Line {
  postMessage(message: unknown, transfer?: Transferable[]): void
  onmessage: ((event: MessageEvent) => void) | null
  start(): void
  close(): void
}

/** What a line or the join channel needs of a BroadcastChannel; fakes stand in for it in tests. */
export interface ChannelEnd {
  postMessage(message: unknown): void
  onmessage: ((event: MessageEvent) => void) | null
  close(): void
}

/** Opens a BroadcastChannel of this name (or a fake one). */
export type OpenChannel = (name: string) => ChannelEnd

/** The browser's BroadcastChannel. */
export const browserChannel: OpenChannel = (name) => new BroadcastChannel(name)

/** A line as it travels in a message: a port (transferred) or a channel line's name. */
export type LineRef = MessagePort | string

const PREFIX = 'kysely-multitab/line/'
const OPEN = '$line-open'
const ACK = '$line-ack'

export const isLineName = (x: unknown): x is string => typeof x === 'string' && /^[\w-]{8,64}$/.test(x)

/** Opens this end of a line received in a message; a channel line on a channel from `openChannel`. */
export function openLine(ref: LineRef, openChannel: OpenChannel = browserChannel): Line {
  return typeof ref === 'string' ? new ChannelLine(ref, openChannel) : ref
}

/** What to put in a postMessage transfer list for `ref`. */
export function transferOf(ref: LineRef): Transferable[] {
  return typeof ref === 'string' ? [] : [ref]
}

/**
 * A new line with two ends to hand out: a MessageChannel when every party can take a port, or a
 * fresh channel name (each end opens it with {@link openLine}).
 */
export function newLine(ports: boolean): [LineRef, LineRef] {
  if (ports) {
    const channel = new MessageChannel()
    return [channel.port1, channel.port2]
  }
  const name = crypto.randomUUID()
  return [name, name]
}

/**
 * A line end whose incoming messages wait until a handler is set, as a port's do before
 * `start()`. Subclasses say how to post and close.
 */
export abstract class HoldingLine implements Line {
  #handler: ((event: MessageEvent) => void) | null = null
  #held: MessageEvent[] = []
  #dropping = false
  readonly #hold = (event: MessageEvent): void => void this.#held.push(event)

  /**
   * Hands an incoming event to the handler, holds it until there is one, or (once the line is
   * closing) drops it. While a handler is set, this is the handler itself: a message that comes
   * in runs none of the line's code on its way. Only the line itself sets it.
   */
  deliver: (event: MessageEvent) => void = this.#hold

  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#handler
  }

  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    if (this.#dropping) return
    this.#handler = handler
    this.deliver = handler ?? this.#hold
    if (!handler) return
    const held = this.#held
    this.#held = []
    for (const event of held) handler(event)
  }

  start(): void {}

  abstract postMessage(message: unknown): void
  abstract close(): void

  /** Drops what is held, the handler, and whatever comes in from now on (the line is closing). */
  protected dropAll(): void {
    this.#dropping = true
    this.#held = []
    this.#handler = null
    this.deliver = drop
  }
}

const drop = (): void => {}

/**
 * One end of a BroadcastChannel line. A BroadcastChannel drops what is posted before the other end
 * exists (a MessagePort would queue it), so each end announces itself and holds its outgoing
 * messages until it has heard the other end; incoming messages wait until a handler is set, like
 * a port's before `start()`.
 */
class ChannelLine extends HoldingLine {
  readonly #channel: ChannelEnd
  #peer = false
  #closed = false
  #outbox: unknown[] = []

  constructor(name: string, openChannel: OpenChannel) {
    super()
    this.#channel = openChannel(PREFIX + name)
    this.#channel.onmessage = (event) => this.#onChannelMessage(event.data)
    this.#channel.postMessage(OPEN)
  }

  postMessage(message: unknown): void {
    if (this.#closed) return
    if (this.#peer) this.#channel.postMessage(message)
    else this.#outbox.push(message)
  }

  close(): void {
    this.#closed = true
    this.#outbox = []
    this.dropAll()
    this.#channel.close()
  }

  #onChannelMessage(data: unknown): void {
    if (data === OPEN || data === ACK) {
      if (data === OPEN) this.#channel.postMessage(ACK)
      if (!this.#peer) {
        this.#peer = true
        const outbox = this.#outbox
        this.#outbox = []
        for (const message of outbox) this.#channel.postMessage(message)
      }
      return
    }
    this.deliver(new MessageEvent('message', { data }))
  }
}
