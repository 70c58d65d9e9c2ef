/**
 * The OPFS files of one database: wa-sqlite's AccessHandlePoolVFS, opened with bounded retries.
 *
 * The pool keeps its files open with synchronous access handles, which only a DedicatedWorker can
 * make and only one of which may be open per file. A tab that just closed may still own them for a
 * moment after its role lock is released (the browser frees them asynchronously), so opening retries
 * `NoModificationAllowedError` a bounded number of times and then fails with a typed error rather
 * than waiting forever. A hung holder (a frozen tab) may keep them for good: a worker that took the
 * role from one copies the files away from it instead (see pool-generations.ts).
 */
import { AccessHandlePoolVFS } from 'wa-sqlite/src/examples/AccessHandlePoolVFS.js'
import { HandoffError, StorageUnavailableError } from '../protocol/errors.js'
import { Busy, retryWhileBusy } from './busy-retry.js'
import { copyLivePool, CopyNotMade, findLivePool, markLive, type LivePool, type Taker } from './pool-directory.js'
import { isRefusal, StorageRefusedError } from './storage-choice.js'

export interface PoolOptions {
  readonly directory: string
  /** How many times to try for busy access handles before giving up. */
  readonly attempts: number
  readonly retryDelayMs: number
  /**
   * Called every IO_TICK reads or writes and around each flush: SQLite's progress handler is not
   * called inside one step, and a commit that flushes many pages is one step.
   */
  readonly onIo?: () => void
}

const IO_TICK = 64

/**
 * Tries a taker gives the live files before it copies them away: a hung holder that is merely
 * slow lets them go by then, a frozen one never does.
 */
const TAKER_ATTEMPTS = 4

const SQLITE_IOERR = 10
const SQLITE_FULL = 13
const IOERR_READ = 266
const IOERR_WRITE = 778
const IOERR_FSYNC = 1034
const IOERR_TRUNCATE = 1546

const nameOf = (error: unknown) => (error as { name?: string })?.name

function guarded(call: () => number, ioError: number): number {
  try {
    return call()
  } catch (error) {
    return nameOf(error) === 'QuotaExceededError' ? SQLITE_FULL : ioError
  }
}

/**
 * True for the error a second holder gets while another context has the file open: Chromium and
 * Firefox say `NoModificationAllowedError`, Safari `InvalidStateError`.
 */
function isHandleBusy(error: unknown): boolean {
  const name = nameOf(error)
  return name === 'NoModificationAllowedError' || name === 'InvalidStateError'
}

/**
 * Whether sync access handles are refused here rather than busy. WebKitGTK refuses them
 * (`NotSupportedError`) once per file, then answers `InvalidStateError` on that file from any
 * context, which Safari says of a busy file: a file no one can hold tells the two apart.
 */
async function refusedOnAFreshFile(): Promise<Error | undefined> {
  const root = await navigator.storage.getDirectory()
  const name = `kysely-multitab-probe-${crypto.randomUUID()}`
  try {
    const handle = await (await root.getFileHandle(name, { create: true })).createSyncAccessHandle()
    handle.close()
    return undefined
  } catch (error) {
    return isRefusal(error) || nameOf(error) === 'InvalidStateError' ? (error as Error) : undefined
  } finally {
    await root.removeEntry(name).catch(() => {})
  }
}

/**
 * Opens the database's live pool (see pool-generations.ts) under the VFS name `name`. A `taker`
 * (this worker took the role lock from a hung holder) that finds the files still held copies them
 * to a directory of its own and opens that, so a frozen holder cannot keep every tab waiting.
 */
export async function openLivePool(
  options: PoolOptions,
  name: string,
  taker?: Taker,
): Promise<{ pool: AccessHandlePoolVFS; path: string }> {
  checkSupport()
  const live = await findLivePool(options.directory).catch((error: unknown) => {
    if (isRefusal(error))
      throw new StorageRefusedError(`OPFS refused its directory (${(error as Error).name}: ${(error as Error).message})`)
    throw error
  })
  return taker
    ? take(options, name, live, taker)
    : { pool: await openPool({ ...options, directory: live.path }, name), path: live.path }
}

/** A taker opens the live files if their hung holder lets them go soon, else a copy of them. */
async function take(
  options: PoolOptions,
  name: string,
  live: LivePool,
  taker: Taker,
): Promise<{ pool: AccessHandlePoolVFS; path: string }> {
  const soon = { ...options, directory: live.path, attempts: Math.min(options.attempts, TAKER_ATTEMPTS) }
  const opened = await openPool(soon, name).catch(unlessBusy)
  if (opened) return { pool: await marked(opened, options.directory, live, taker), path: live.path }
  const copy = await copyLivePool(options.directory, live, taker).catch((error: unknown) => {
    if (error instanceof CopyNotMade) return undefined
    throw error
  })
  if (copy) return { pool: await openPool({ ...options, directory: copy }, name), path: copy }
  // No copy (no room, the holder still writes, or the browser refuses to read held files): wait
  // for the files, as for any holder letting them go.
  const waited = await openPool({ ...options, directory: live.path }, name)
  return { pool: await marked(waited, options.directory, live, taker), path: live.path }
}

function unlessBusy(error: unknown): undefined {
  if (error instanceof HandoffError) return undefined
  throw error
}

/** The taker's marker made (see pool-generations.ts), before anything is served from `pool`. */
async function marked(pool: AccessHandlePoolVFS, base: string, live: LivePool, taker: Taker): Promise<AccessHandlePoolVFS> {
  try {
    await markLive(base, live, taker)
    return pool
  } catch (error) {
    await pool.close().catch(() => {})
    if (error instanceof HandoffError) throw error
    throw new HandoffError(`Could not mark the database files as taken over: ${(error as Error)?.message ?? error}`)
  }
}

function checkSupport(): void {
  if (typeof navigator.storage?.getDirectory !== 'function') {
    throw new StorageUnavailableError('OPFS (navigator.storage.getDirectory) is not available in this browser')
  }
  if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) {
    throw new StorageUnavailableError('OPFS synchronous access handles are not available in this browser')
  }
}

/** Opens the pool in `options.directory` under the VFS name `name`. */
function openPool(options: PoolOptions, name: string): Promise<AccessHandlePoolVFS> {
  return retryWhileBusy(options.attempts, options.retryDelayMs, async () => {
    // A fresh subclass per attempt: wa-sqlite registers VFSs by name, and a failed one stays registered.
    // Its file methods turn exceptions into result codes: wa-sqlite 1.0 lets a JS exception unwind
    // through SQLite's C frames, which would leave SQLite in an unknown state. A full quota becomes
    // SQLITE_FULL, which SQLite handles cleanly (the statement fails, the file stays consistent).
    const onIo = options.onIo
    let io = 0
    const Pool = class extends AccessHandlePoolVFS {
      override get name() {
        return name
      }
      override xRead(fileId: number, pData: Uint8Array, iOffset: number): number {
        if (++io % IO_TICK === 0) onIo?.()
        return guarded(() => super.xRead(fileId, pData, iOffset), IOERR_READ)
      }
      override xWrite(fileId: number, pData: Uint8Array, iOffset: number): number {
        if (++io % IO_TICK === 0) onIo?.()
        const rc = guarded(() => super.xWrite(fileId, pData, iOffset), IOERR_WRITE)
        // The pool reports a short write as SQLITE_IOERR; an OPFS sync handle writes short when
        // the origin's quota is reached.
        return rc === SQLITE_IOERR ? SQLITE_FULL : rc
      }
      override xTruncate(fileId: number, iSize: number): number {
        return guarded(() => super.xTruncate(fileId, iSize), IOERR_TRUNCATE)
      }
      override xSync(fileId: number, flags: number): number {
        onIo?.()
        const rc = guarded(() => super.xSync(fileId, flags), IOERR_FSYNC)
        onIo?.()
        return rc
      }
    }
    const pool = new Pool(options.directory)
    try {
      await pool.isReady
      return pool
    } catch (error) {
      await pool.close().catch(() => {})
      const stale = nameOf(error) === 'InvalidStateError'
      const refused = isRefusal(error) ? (error as Error) : stale ? await refusedOnAFreshFile() : undefined
      if (refused) {
        throw new StorageRefusedError(`OPFS synchronous access handles failed to open (${refused.name}: ${refused.message})`)
      }
      if (!isHandleBusy(error)) {
        throw new StorageUnavailableError(`Cannot open OPFS storage: ${(error as Error).message}`)
      }
      return new Busy((error as Error).message)
    }
  })
}
