/**
 * The write fence: lets a new holder take the database's files from a frozen or hung one that
 * still has them open, and keeps the old one from ever writing to them again.
 *
 * Where the browser lets several workers hold `readwrite-unsafe` access handles on one file
 * (Chromium), every holder opens the pool in that mode, so a new holder can open the files while
 * a frozen tab's worker still holds them. What keeps the old one out is a generation number in a
 * file beside the database's directory: each holder, once it has the role lock, writes a new
 * random generation there before it opens the database, and its VFS reads the file before every call
 * that changes a file (write, truncate, sync, create, delete). Once the number is another's, the
 * holder is fenced: those calls fail, for good, and nothing it does afterwards (a rollback of its
 * open transaction, a journal delete, a close) reaches the files.
 *
 * The check and the call it guards run in one synchronous step, but they are not atomic: a
 * browser that pauses a worker in the middle of its JavaScript (Chromium may, when it freezes a
 * page) can pause it between the two. Resumed, such a worker makes the one call it was about to
 * make, and is fenced from the next: the window is one VFS call (see README, Background tabs).
 *
 * Where only one handle per file is allowed (Firefox, Safari), the handles themselves keep a
 * second holder out and no fence is used.
 */

const SHARED_MODE = 'readwrite-unsafe'

type SyncHandle = FileSystemSyncAccessHandle
type OpenHandle = (file: FileSystemFileHandle, options?: { mode?: string }) => Promise<SyncHandle>
const openHandle: OpenHandle = (file, options) =>
  (file.createSyncAccessHandle as unknown as (options?: { mode?: string }) => Promise<SyncHandle>).call(file, options)

export class WriteFence {
  readonly #handle: SyncHandle
  readonly #generation: number
  readonly #cell = new DataView(new ArrayBuffer(8))
  #fenced = false

  private constructor(handle: SyncHandle, generation: number) {
    this.#handle = handle
    this.#generation = generation
  }

  /**
   * Takes the files of the database in `directory` (an OPFS path) for this worker, the caller
   * holding the role lock. Returns undefined where handles cannot be shared: the pool then opens
   * them in the default, exclusive mode. Where they can, every sync access handle this worker
   * opens afterwards is opened in the shared mode (see `shareHandles`).
   */
  static async take(directory: string): Promise<WriteFence | undefined> {
    const parts = directory.split('/').filter(Boolean)
    const name = `${parts.pop()}.fence`
    let dir = await navigator.storage.getDirectory()
    for (const part of parts) dir = await dir.getDirectoryHandle(part, { create: true })
    const file = await dir.getFileHandle(name, { create: true })
    let handle: SyncHandle
    try {
      handle = await openHandle(file, { mode: SHARED_MODE })
    } catch {
      return undefined // held exclusively, or no shared mode here
    }
    // A browser that does not know the mode opened the handle exclusively: a second one fails.
    try {
      ;(await openHandle(file, { mode: SHARED_MODE })).close()
    } catch {
      handle.close()
      return undefined
    }
    shareHandles()
    const cell = new DataView(new ArrayBuffer(8))
    handle.read(cell, { at: 0 })
    const previous = cell.getFloat64(0, true)
    // Random, not counted: a file deleted and made again cannot hand an old holder its number back.
    let generation: number
    do {
      const [high, low] = crypto.getRandomValues(new Uint32Array(2))
      generation = high! * 2 ** 21 + (low! >>> 11) + 1 // 1 .. 2^53, exact in a float64
    } while (generation === previous)
    cell.setFloat64(0, generation, true)
    handle.write(cell, { at: 0 })
    handle.flush()
    return new WriteFence(handle, generation)
  }

  /** This holder still owns the files. Once false, false for good. */
  holds(): boolean {
    if (this.#fenced) return false
    try {
      const read = this.#handle.read(this.#cell, { at: 0 })
      if (read !== 8 || this.#cell.getFloat64(0, true) !== this.#generation) this.#fenced = true
    } catch {
      this.#fenced = true // the fence file is gone or closed: nothing proves we still own the files
    }
    return !this.#fenced
  }

  get fenced(): boolean {
    return this.#fenced
  }

  close(): void {
    try {
      this.#handle.close()
    } catch {
      // Closed already.
    }
  }
}

let shared = false

/**
 * From now on, every sync access handle this worker opens without a mode of its own is opened in
 * the shared mode. All holders of a file must use one mode (an exclusive open fails while shared
 * handles are open, and the other way round), and wa-sqlite's pool opens its handles itself.
 */
function shareHandles(): void {
  if (shared) return
  shared = true
  const proto = FileSystemFileHandle.prototype as unknown as { createSyncAccessHandle: (options?: { mode?: string }) => Promise<SyncHandle> }
  const exclusive = proto.createSyncAccessHandle
  proto.createSyncAccessHandle = function (this: FileSystemFileHandle, options?: { mode?: string }) {
    return exclusive.call(this, options ?? { mode: SHARED_MODE })
  }
}
