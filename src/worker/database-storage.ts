/**
 * The SQLite build and VFS for the chosen storage (see storage-choice.ts), and whole-file access
 * to the database's files for export and import (sync-storage.ts for the synchronous VFSs).
 *
 * The sync build serves the access-handle pool and memory; the Asyncify build (a separate wasm,
 * fetched only when a fallback needs it) serves the OPFS-writable and IndexedDB VFSs (see
 * sqlite-builds.ts).
 */
import { MemoryVFS } from 'wa-sqlite/src/examples/MemoryVFS.js'
import { HandoffError, SqliteError, StorageUnavailableError } from '../protocol/errors.js'
import type { StorageKind } from '../protocol/message-fields.js'
import { openLivePool } from './opfs-pool.js'
import { findLivePool, pruneGenerations, type Taker } from './pool-directory.js'
import { OpfsWritableVFS } from './opfs-writable-vfs.js'
import { buildOf, keepBuild, loadBuild, rehearsalSettled, type EmscriptenModule, type Loaded } from './sqlite-builds.js'
import { syncStorage, type RawVfs } from './sync-storage.js'

export interface StorageOptions {
  readonly storage: StorageKind
  readonly directory: string
  readonly wasmUrl: string
  /** The Asyncify build's wasm, for the `opfs` and `idb` storages. */
  readonly asyncWasmUrl: string
  /** How many times to try for busy access handles before giving up. */
  readonly attempts: number
  readonly retryDelayMs: number
  /** See PoolOptions.onIo (the `opfs-sahpool` storage). */
  readonly onIo?: () => void
  /** The role lock was taken from a hung holder (see openLivePool; the `opfs-sahpool` storage). */
  readonly taker?: Taker
}

/** An opened storage: the SQLite API of the right build, with a VFS registered as `vfsName`. */
export interface DatabaseStorage {
  readonly kind: StorageKind
  readonly module: EmscriptenModule
  readonly sqlite3: SQLiteAPI
  readonly vfsName: string
  /** A whole file (no transaction may be open on it). */
  read(name: string): Promise<Uint8Array>
  /** Writes a whole file, replacing it, durably. */
  write(name: string, bytes: Uint8Array): Promise<void>
  remove(name: string): Promise<void>
  close(): Promise<void>
  /** Whether these are still the database's live files (see pool-generations.ts); absent: always. */
  stillLive?(): Promise<boolean>
  /** Clears copies of the files no longer live, while `serving()` (see pool-directory.ts). */
  prune?(serving: () => boolean): void
}

let vfsCounter = 0
const memoryVfss = new Map<string, MemoryVFS>()

/** IndexedDB VFSs by database: named after their IndexedDB database, so registered once per worker. */
const idbVfss = new Map<string, Promise<{ readonly name: string }>>()

export async function openStorage(options: StorageOptions): Promise<DatabaseStorage> {
  try {
    return await open(options, rehearsalSettled())
  } catch (error) {
    if (error instanceof SqliteError || error instanceof StorageUnavailableError || error instanceof HandoffError) throw error
    throw new StorageUnavailableError(`Cannot open '${options.storage}' storage: ${(error as Error)?.message ?? error}`)
  }
}

/** Opens `options.storage`; the module is first used once `warmed` (a rehearsal) has settled. */
async function open(options: StorageOptions, warmed: Promise<void>): Promise<DatabaseStorage> {
  const name = `kysely-multitab-${++vfsCounter}`
  const [build, url] = buildOf(options.storage, options.wasmUrl, options.asyncWasmUrl)
  keepBuild(build)
  const loading = warmed.then(() => loadBuild(build, url))
  switch (options.storage) {
    case 'opfs-sahpool': {
      // The pool's access handles open while the wasm loads: neither needs the other.
      const pooled = openLivePool(options, name, options.taker)
      pooled.catch(() => {}) // awaited below, once the wasm is in
      let loaded: Loaded
      try {
        loaded = await loading
      } catch (error) {
        // Its handles go before the role lock does, so the next tab elected finds the files free.
        await pooled
          .then(
            ({ pool }) => pool.close(),
            () => {},
          )
          .catch(() => {})
        throw error
      }
      const { pool, path } = await pooled
      const { module, sqlite3 } = loaded
      // The default VFS, so that ATTACH (used to import a database file) finds files in the pool too.
      sqlite3.vfs_register(pool as never, true)
      return {
        ...syncStorage('opfs-sahpool', module, sqlite3, name, pool as unknown as RawVfs, () => pool.close()),
        stillLive: async () => (await findLivePool(options.directory)).path === path,
        prune: (serving) => void pruneGenerations(options.directory, serving).catch(() => {}),
      }
    }
    case 'memory': {
      const { module, sqlite3 } = await loading
      // One per worker and database: this tab closing and reopening (a hand-off back to itself)
      // finds its data again; another tab's worker cannot.
      let vfs = memoryVfss.get(options.directory)
      if (!vfs) {
        const created = new (class extends MemoryVFS {
          override name = name
        })()
        sqlite3.vfs_register(created as never, true)
        memoryVfss.set(options.directory, (vfs = created))
      }
      return syncStorage('memory', module, sqlite3, vfs.name, vfs as unknown as RawVfs, async () => {})
    }
    case 'opfs': {
      const { module, sqlite3 } = await loading
      // A directory of its own: the access-handle pool takes over every file in its directory, so
      // a later switch to it (a browser update) must not meet these files there.
      const directory = options.directory.replace(/^kysely-multitab\//, 'kysely-multitab-opfs/')
      const vfs = await OpfsWritableVFS.create(name, directory, options.attempts, options.retryDelayMs)
      sqlite3.vfs_register(vfs as never, true)
      // Registered VFS methods suspend the wasm; whole files go straight to the OPFS directory.
      return {
        kind: 'opfs',
        module,
        sqlite3,
        vfsName: name,
        read: (file) => vfs.readFile(file),
        write: (file, bytes) => vfs.writeFile(file, bytes),
        remove: (file) => vfs.removeFile(file),
        close: () => vfs.close(),
      }
    }
    case 'idb': {
      const { module, sqlite3 } = await loading
      // Its VFS name is its IndexedDB database's name: one instance per worker, kept open (closing
      // the database releases the VFS's own Web Locks; other tabs' workers may connect meanwhile).
      let registered = idbVfss.get(options.directory)
      if (!registered) {
        registered = import('wa-sqlite/src/examples/IDBBatchAtomicVFS.js').then(({ IDBBatchAtomicVFS }) => {
          const vfs = new IDBBatchAtomicVFS(options.directory, { durability: 'strict' })
          sqlite3.vfs_register(vfs as never, true)
          return vfs
        })
        registered.catch(() => idbVfss.delete(options.directory))
        idbVfss.set(options.directory, registered)
      }
      const vfs = await registered
      const unsupported = async (): Promise<never> => {
        throw new StorageUnavailableError('Export and import of whole files are not supported on IndexedDB storage')
      }
      return {
        kind: 'idb',
        module,
        sqlite3,
        vfsName: vfs.name,
        read: unsupported,
        write: unsupported,
        remove: async () => {},
        close: async () => {},
      }
    }
  }
}
