// A tab's own worker as its page sees it (a TabWorkerEnd): it keeps what the page posts, answers
// `worker-status` and `close` as an idle worker does unless told to stay silent (a hung worker),
// says what the test makes it say, and can fail to load.
import type { TabWorkerEnd } from '../../src/client/link-env.js'
import { NO_WORKER } from '../../src/client/own-worker.js'
import type { OwnWorkerReply } from '../../src/protocol/own-worker-messages.js'

export class FakeTabWorker implements TabWorkerEnd {
  onmessage: ((event: MessageEvent) => void) | null = null
  onerror: ((event: ErrorEvent) => void) | null = null
  readonly posted: Array<{ t?: string; [field: string]: unknown }> = []
  terminated = false
  /** Answers `worker-status` and `close`; false: a hung worker, which answers nothing. */
  answers = true

  constructor(
    readonly url: string | URL | undefined,
    readonly name: string,
  ) {}

  /** As a terminated Worker's, what is posted after terminate() goes nowhere. */
  postMessage(message: unknown): void {
    if (this.terminated) return
    const call = message as { t?: string; id?: number }
    this.posted.push(call)
    if (!this.answers || (call.t !== 'close' && call.t !== 'worker-status')) return
    const reply: OwnWorkerReply =
      call.t === 'close' ? { t: 'reply', id: call.id! } : { t: 'reply', id: call.id!, value: NO_WORKER }
    queueMicrotask(() => this.say(reply))
  }

  terminate(): void {
    this.terminated = true
  }

  /** The worker posts `data` to its page. */
  say(data: unknown): void {
    if (!this.terminated) this.onmessage?.(new MessageEvent('message', { data }))
  }

  /** The worker's script failed to load. */
  fail(message: string): void {
    this.onerror?.({ message, preventDefault: () => {} } as unknown as ErrorEvent)
  }

  /** What the page posted of type `t`, in order. */
  sent(t: string): Array<{ t?: string; [field: string]: unknown }> {
    return this.posted.filter((m) => m.t === t)
  }
}
