/**
 * Opening a database whose previous holder is still letting go: the browser frees a closed tab's
 * access handles (and Web Locks) a moment after its role lock, so an open that finds them busy
 * tries again, a little later each time, and gives up with a typed, retryable error rather than
 * waiting forever.
 */
import { HandoffError } from '../protocol/errors.js'

/** What one attempt returns when the files are still held elsewhere. */
export class Busy {
  constructor(readonly reason: string) {}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `attempt` until it returns something other than {@link Busy}, at most `attempts` times. */
export async function retryWhileBusy<T>(attempts: number, retryDelayMs: number, attempt: () => Promise<T | Busy>): Promise<T> {
  for (let n = 1; ; n++) {
    const result = await attempt()
    if (!(result instanceof Busy)) return result
    if (n >= attempts) {
      throw new HandoffError(
        `The database files are still held by another context after ${n} attempts ` +
          `(${result.reason}); a tab that just closed may not have released them yet`,
      )
    }
    // Capped where a browser's timer would fire at once instead.
    await sleep(Math.min(retryDelayMs * n, 2 ** 31 - 1))
  }
}
