/**
 * Where this worker keeps the database, and opening it there. The storage is chosen once per
 * worker from what the browser offers (probed at start), so every activation opens the same one;
 * with `storage: 'auto'`, one the browser offers but refuses when opened is passed over for the
 * next (the `fallback` event's reason says why).
 */
import type { StorageKind } from '../protocol/message-fields.js'
import type { InitMessage } from '../protocol/own-worker-messages.js'
import type { DebugLog } from '../protocol/debug-log.js'
import { SqliteEngine } from './sqlite-engine.js'
import { forgetBuilds, preloadStorage, warmStorage } from './sqlite-builds.js'
import type { Taker } from './pool-directory.js'
import {
  chooseStorage,
  probeCapabilities,
  refuse,
  StorageRefusedError,
  type StorageChoice,
  type StorageCapabilities,
} from './storage-choice.js'

/** The storage asked for is not available here (a permanent failure, reported to every tab). */
export class StorageChoiceFailed {
  constructor(readonly error: Error) {}
}

type OpenerOptions = Pick<
  InitMessage,
  'storage' | 'directory' | 'filename' | 'openAttempts' | 'openRetryDelayMs' | 'connectionSetup'
>

export class DatabaseOpener {
  readonly #options: OpenerOptions
  readonly #urls: { wasmUrl: string; asyncWasmUrl: string }
  readonly #log: DebugLog
  /** Called on every read, write and flush of the files: the role's heartbeat while busy. */
  readonly #onIo: () => void
  #storage: StorageChoice | undefined
  /** What this worker's browser offers, probed once at start. */
  #caps: StorageCapabilities | undefined

  constructor(options: OpenerOptions, urls: { wasmUrl: string; asyncWasmUrl: string }, log: DebugLog, onIo: () => void) {
    this.#options = options
    this.#urls = urls
    this.#log = log
    this.#onIo = onIo
    void probeCapabilities().then((caps) => (this.#caps = caps))
  }

  /** Why the storage in use was chosen over a better one, if it was. */
  get reason(): string | undefined {
    return this.#storage?.reason
  }

  /** The storage, if it can be told without waiting for the probe. */
  known(): StorageChoice | StorageChoiceFailed | undefined {
    return this.#storage ?? (this.#caps ? this.#choose(this.#caps) : undefined)
  }

  /** Fetches and compiles SQLite for `storage` ahead of opening. */
  preload(storage: StorageChoice): void {
    preloadStorage(storage.kind, this.#urls.wasmUrl, this.#urls.asyncWasmUrl)
  }

  /**
   * Opens the files (on the next storage if the browser refuses one, with 'auto'); a `taker` took
   * the role lock from a hung holder.
   */
  async open(known: StorageChoice | undefined, taker?: Taker): Promise<{ storage: StorageChoice; engine: SqliteEngine }> {
    let chosen = known ?? (await this.#chosen())
    for (;;) {
      if (chosen instanceof StorageChoiceFailed) throw chosen.error
      try {
        return { storage: chosen, engine: await this.#open(chosen.kind, taker) }
      } catch (error) {
        // Offered but refused for good: with 'auto', the next storage (its reason says why).
        if (!(error instanceof StorageRefusedError) || this.#options.storage !== 'auto') throw error
        this.#log('storage refused: falling back', { storage: chosen.kind, error: error.message })
        this.#storage = undefined
        this.#caps = refuse(this.#caps ?? (await probeCapabilities()), chosen.kind, error.message)
        chosen = this.#choose(this.#caps)
      }
    }
  }

  /**
   * Loads and warms SQLite for the storage (a warm standby), unless `busy()` says the module is
   * in use: its API is not re-entrant across awaits, so never rehearse beside a real database.
   */
  async warm(busy: () => boolean): Promise<StorageKind | undefined> {
    const chosen = await this.#chosen()
    if (chosen instanceof StorageChoiceFailed || busy()) return undefined // a failure is reported if elected
    await warmStorage(chosen.kind, this.#urls.wasmUrl, this.#urls.asyncWasmUrl)
    return chosen.kind
  }

  /** Lets a warmed module go. */
  forget(): void {
    forgetBuilds()
  }

  /** The storage, probing the browser first if the probe at start has not answered yet. */
  async #chosen(): Promise<StorageChoice | StorageChoiceFailed> {
    return this.#storage ?? this.#choose(this.#caps ?? (await probeCapabilities()))
  }

  #choose(caps: StorageCapabilities): StorageChoice | StorageChoiceFailed {
    try {
      return (this.#storage = chooseStorage(this.#options.storage, caps))
    } catch (error) {
      return new StorageChoiceFailed(error as Error)
    }
  }

  #open(storage: StorageKind, taker: Taker | undefined): Promise<SqliteEngine> {
    const options = this.#options
    return SqliteEngine.open({
      storage,
      directory: options.directory,
      filename: options.filename,
      ...this.#urls,
      attempts: options.openAttempts,
      retryDelayMs: options.openRetryDelayMs,
      setup: options.connectionSetup,
      onIo: this.#onIo,
      ...(taker ? { taker } : {}),
    })
  }
}
