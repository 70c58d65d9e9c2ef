/**
 * An OPFS VFS for browsers without synchronous access handles (wa-sqlite's Asyncify build).
 *
 * Each open file is kept whole in memory: reads come from there, writes go there, and `xSync`
 * replaces the OPFS file through `createWritable()`, whose `close()` swaps the new contents in
 * atomically. SQLite syncs the journal before it touches the database and the database before it
 * ends the journal, so a crash at any point leaves a file pair it can recover.
 *
 * One holder: besides the role lock (which a new active tab may steal from a hung one), the VFS
 * holds a Web Lock of its own from open to close, never stolen, as the access-handle pool's
 * handles are: a hung worker that wakes cannot write over its successor's commits.
 *
 * Slower than the access-handle pool (a sync rewrites the whole file) and it holds the database
 * in memory: a fallback, not a peer.
 */
import * as VFS from 'wa-sqlite/src/VFS.js'
import { Busy, retryWhileBusy } from './busy-retry.js'

interface OpenFile {
  readonly name: string
  /** Temporary files (no name, or SQLite's temp/sub journals) never reach OPFS. */
  readonly persistent: boolean
  data: Uint8Array
  size: number
  dirty: boolean
}

/**
 * wa-sqlite's base class. Its bundled typings describe an older `xRead`/`xWrite` signature; in
 * 1.0 those receive a Uint8Array view of the wasm memory, as declared below.
 */
const Base = VFS.Base as unknown as new () => { mxPathName: number; handleAsync(f: () => Promise<number>): number }

const TEMPORARY =
  VFS.SQLITE_OPEN_TEMP_DB | VFS.SQLITE_OPEN_TEMP_JOURNAL | VFS.SQLITE_OPEN_TRANSIENT_DB | VFS.SQLITE_OPEN_SUBJOURNAL

export class OpfsWritableVFS extends Base {
  readonly name: string
  readonly #directory: FileSystemDirectoryHandle
  readonly #files = new Map<number, OpenFile>()
  readonly #release: () => void

  private constructor(name: string, directory: FileSystemDirectoryHandle, release: () => void) {
    super()
    this.name = name
    this.#directory = directory
    this.#release = release
  }

  /**
   * Takes the directory's lock (retrying while a previous holder lets go, like the pool's busy
   * handles) and opens the OPFS directory `path` (created if missing).
   */
  static async create(name: string, path: string, attempts: number, retryDelayMs: number): Promise<OpfsWritableVFS> {
    const release = await exclusive(`kysely-multitab-opfs-writer:${path}`, attempts, retryDelayMs)
    try {
      let directory = await navigator.storage.getDirectory()
      for (const part of path.split('/').filter(Boolean)) directory = await directory.getDirectoryHandle(part, { create: true })
      return new OpfsWritableVFS(name, directory, release)
    } catch (error) {
      release()
      throw error
    }
  }

  /** Flushes what SQLite left open (it normally closes everything first) and lets the lock go. */
  async close(): Promise<void> {
    try {
      for (const file of this.#files.values()) await this.#flush(file)
      this.#files.clear()
    } finally {
      this.#release()
    }
  }

  xOpen(name: string | null, fileId: number, flags: number, pOutFlags: DataView): number {
    return this.handleAsync(async () => {
      const persistent = !!name && !(flags & TEMPORARY)
      const file: OpenFile = { name: name ?? `temp-${fileId}`, persistent, data: new Uint8Array(0), size: 0, dirty: false }
      if (persistent) {
        try {
          const handle = await this.#directory.getFileHandle(file.name, { create: !!(flags & VFS.SQLITE_OPEN_CREATE) })
          file.data = new Uint8Array(await (await handle.getFile()).arrayBuffer())
          file.size = file.data.byteLength
        } catch {
          return VFS.SQLITE_CANTOPEN
        }
      }
      this.#files.set(fileId, file)
      pOutFlags.setInt32(0, flags, true)
      return VFS.SQLITE_OK
    })
  }

  xClose(fileId: number): number {
    return this.handleAsync(async () => {
      const file = this.#files.get(fileId)
      if (!file) return VFS.SQLITE_OK
      const rc = await this.#flush(file)
      this.#files.delete(fileId)
      return rc
    })
  }

  xRead(fileId: number, pData: Uint8Array, iOffset: number): number {
    const file = this.#files.get(fileId)
    if (!file) return VFS.SQLITE_IOERR_READ
    const available = Math.max(0, Math.min(pData.byteLength, file.size - iOffset))
    pData.set(file.data.subarray(iOffset, iOffset + available))
    if (available < pData.byteLength) {
      pData.fill(0, available)
      return VFS.SQLITE_IOERR_SHORT_READ
    }
    return VFS.SQLITE_OK
  }

  xWrite(fileId: number, pData: Uint8Array, iOffset: number): number {
    const file = this.#files.get(fileId)
    if (!file) return VFS.SQLITE_IOERR_WRITE
    const end = iOffset + pData.byteLength
    if (end > file.data.byteLength) {
      const grown = new Uint8Array(Math.max(end, file.data.byteLength * 2))
      grown.set(file.data.subarray(0, file.size))
      file.data = grown
    }
    file.data.set(pData, iOffset)
    file.size = Math.max(file.size, end)
    file.dirty = true
    return VFS.SQLITE_OK
  }

  xTruncate(fileId: number, iSize: number): number {
    return this.handleAsync(async () => {
      const file = this.#files.get(fileId)
      if (!file) return VFS.SQLITE_IOERR_TRUNCATE
      if (iSize < file.size) file.data.fill(0, iSize, file.size)
      if (iSize > file.data.byteLength) {
        const grown = new Uint8Array(iSize)
        grown.set(file.data.subarray(0, file.size))
        file.data = grown
      }
      file.size = iSize
      file.dirty = true
      // Truncating the journal is how a TRUNCATE-mode commit ends: it must be durable at once.
      return this.#flush(file)
    })
  }

  xSync(fileId: number, _flags: number): number {
    return this.handleAsync(async () => {
      const file = this.#files.get(fileId)
      return file ? this.#flush(file) : VFS.SQLITE_IOERR_FSYNC
    })
  }

  xFileSize(fileId: number, pSize64: DataView): number {
    const file = this.#files.get(fileId)
    if (!file) return VFS.SQLITE_IOERR_FSTAT
    pSize64.setBigInt64(0, BigInt(file.size), true)
    return VFS.SQLITE_OK
  }

  xLock(): number {
    return VFS.SQLITE_OK
  }

  xUnlock(): number {
    return VFS.SQLITE_OK
  }

  xCheckReservedLock(_fileId: number, pResOut: DataView): number {
    pResOut.setInt32(0, 0, true)
    return VFS.SQLITE_OK
  }

  xSectorSize(): number {
    return 4096
  }

  xDeviceCharacteristics(): number {
    return 0
  }

  xDelete(name: string, _syncDir: number): number {
    return this.handleAsync(async () => {
      try {
        await this.#directory.removeEntry(name)
      } catch (error) {
        if ((error as { name?: string }).name !== 'NotFoundError') return VFS.SQLITE_IOERR_DELETE
      }
      return VFS.SQLITE_OK
    })
  }

  xAccess(name: string, _flags: number, pResOut: DataView): number {
    return this.handleAsync(async () => {
      let exists = 1
      try {
        await this.#directory.getFileHandle(name)
      } catch {
        exists = 0
      }
      pResOut.setInt32(0, exists, true)
      return VFS.SQLITE_OK
    })
  }

  /** A whole file, from its open copy if SQLite has it open (no transaction may be open). */
  async readFile(name: string): Promise<Uint8Array> {
    for (const file of this.#files.values()) if (file.name === name) return file.data.slice(0, file.size)
    const handle = await this.#directory.getFileHandle(name)
    return new Uint8Array(await (await handle.getFile()).arrayBuffer())
  }

  /** Replaces a whole file that SQLite does not have open. */
  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    const writable = await (await this.#directory.getFileHandle(name, { create: true })).createWritable()
    await writable.write(bytes.slice())
    await writable.close()
  }

  async removeFile(name: string): Promise<void> {
    await this.#directory.removeEntry(name).catch(() => {})
  }

  async #flush(file: OpenFile): Promise<number> {
    if (!file.persistent || !file.dirty) return VFS.SQLITE_OK
    try {
      const handle = await this.#directory.getFileHandle(file.name, { create: true })
      const writable = await handle.createWritable({ keepExistingData: false })
      await writable.write(file.data.slice(0, file.size))
      await writable.close()
      file.dirty = false
      return VFS.SQLITE_OK
    } catch (error) {
      return (error as { name?: string }).name === 'QuotaExceededError' ? VFS.SQLITE_FULL : VFS.SQLITE_IOERR_FSYNC
    }
  }
}

/** Holds the Web Lock `name` until the returned function is called; bounded retries, then HandoffError. */
function exclusive(name: string, attempts: number, retryDelayMs: number): Promise<() => void> {
  return retryWhileBusy(attempts, retryDelayMs, () => {
    return new Promise<(() => void) | Busy>((granted) => {
      void navigator.locks.request(name, { ifAvailable: true }, (lock) => {
        if (!lock) return granted(new Busy(`Web Lock ${name} is held`))
        return new Promise<void>((done) => granted(done))
      })
    })
  })
}
