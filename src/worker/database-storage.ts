/**
 * The SQLite build and VFS for the chosen storage (see storage-choice.ts), and whole-file access
 * to the database's files for export and import.
 *
 * The sync build serves the access-handle pool and memory; the Asyncify build (a separate wasm,
 * fetched only when a fallback needs it) serves the OPFS-writable and IndexedDB VFSs.
 */
import SQLiteESMFactory from 'wa-sqlite/dist/wa-sqlite.mjs'
import * as SQLite from 'wa-sqlite'
import { MemoryVFS } from 'wa-sqlite/src/examples/MemoryVFS.js'
import { HandoffError, SqliteError, StorageUnavailableError } from '../protocol/errors.js'
import type { StorageKind } from '../protocol/messages.js'
import { openLivePool } from './opfs-pool.js'
import { findLivePool, pruneGenerations, type Taker } from './pool-directory.js'
import { OpfsWritableVFS } from './opfs-writable-vfs.js'
import { rehearse } from './warm-up.js'
import { compileSqliteWasm, instantiateSqliteWasm } from './wasm-fetch.js'

export type EmscriptenModule = {
  _sqlite3_malloc(n: number): number
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number
  _getSqliteFree(): number
  UTF8ToString(ptr: number): string
}

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

/** The VFS methods used directly on a synchronous VFS, as wa-sqlite's VFS defines them. */
interface RawVfs {
  xOpen(name: string, fileId: number, flags: number, pOutFlags: DataView): number
  xClose(fileId: number): number
  xRead(fileId: number, pData: Uint8Array, iOffset: number): number
  xWrite(fileId: number, pData: Uint8Array, iOffset: number): number
  xTruncate(fileId: number, iSize: number): number
  xSync(fileId: number, flags: number): number
  xFileSize(fileId: number, pSize64: DataView): number
  xDelete(name: string, syncDir: number): number
}

/** A file id SQLite never uses (its ids are memory addresses, which are positive). */
const EXPORT_FILE_ID = -7

type Loaded = { module: EmscriptenModule; sqlite3: SQLiteAPI }
const builds = new Map<'sync' | 'async', Promise<Loaded>>()
let vfsCounter = 0

function load(build: 'sync' | 'async', wasmUrl: string): Promise<Loaded> {
  let loaded = builds.get(build)
  if (!loaded) {
    loaded = (async () => {
      // The download and compilation overlap the factory's start-up (see wasm-fetch.ts).
      const compiled = compileSqliteWasm(wasmUrl)
      compiled.catch(() => {}) // reported through the hook
      // The fetch goes out only once this thread is free: let it (and a lock request) go before
      // the factory's start-up keeps the thread busy. (A message, not a timer a browser may clamp.)
      await nextTask()
      const factory = build === 'sync' ? SQLiteESMFactory : (await import('wa-sqlite/dist/wa-sqlite-async.mjs')).default
      // Emscripten's factory never settles when its instantiateWasm hook fails: race the failure.
      let failed!: (error: unknown) => void
      const failure = new Promise<never>((_, reject) => (failed = reject))
      failure.catch(() => {}) // a factory that throws has no race to hear it
      const module = await Promise.race([
        factory({
          // Unused by the hook, but it keeps Emscripten from resolving its own default URL against
          // the worker's, which throws for a blob: or data: worker.
          locateFile: () => wasmUrl,
          instantiateWasm(
            imports: WebAssembly.Imports,
            done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
          ) {
            // `done` runs the module's start-up: a throw there must fail the load too.
            instantiateSqliteWasm(wasmUrl, compiled, imports)
              .then((source) => done(source.instance, source.module))
              .catch(failed)
            return {} // the exports follow through `done`
          },
        }),
        failure,
      ])
      return { module: module as EmscriptenModule, sqlite3: SQLite.Factory(module) }
    })()
    loaded.catch(() => {
      if (builds.get(build) === loaded) builds.delete(build)
    })
    builds.set(build, loaded)
  }
  return loaded
}

/** Resolves in a task of its own (after what is queued now, e.g. a fetch going out). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(null)
  })
}

/** The wa-sqlite build a storage runs on, and its wasm: the Asyncify one for the VFSs whose calls suspend. */
function buildOf(storage: StorageKind, wasmUrl: string, asyncWasmUrl: string): ['sync' | 'async', string] {
  return storage === 'opfs' || storage === 'idb' ? ['async', asyncWasmUrl] : ['sync', wasmUrl]
}

/** Starts fetching and compiling the wasm of `storage` (e.g. while waiting for the role lock). */
export function preloadStorage(storage: StorageKind, wasmUrl: string, asyncWasmUrl: string): void {
  void load(...buildOf(storage, wasmUrl, asyncWasmUrl)).catch(() => {})
}

/**
 * A warm standby's rehearsal in progress (see warm-up.ts). The module's API is not re-entrant
 * across awaits (its calls share scratch memory), so opening the real database waits for it. The
 * other way round, no rehearsal may start while a database is open or opening:
 * `WarmStandby` ensures it (see warm-standby.ts).
 */
let warming: Promise<void> | undefined
/** The loaded builds already rehearsed (a second `standby on`, e.g. from a restarted coordinator, is free). */
const rehearsed = new WeakSet<Promise<Loaded>>()
/** Builds a database was opened with: their VFSs (memory, idb) are registered in them, so they stay. */
const opened = new Set<'sync' | 'async'>()

/** Loads the wasm of `storage` and runs SQLite once on a throwaway in-memory database. */
export function warmStorage(storage: StorageKind, wasmUrl: string, asyncWasmUrl: string): Promise<void> {
  // One after the other: a rehearsal for a build forgotten meanwhile is followed by a fresh one.
  const previous = warming ?? Promise.resolve()
  const current: Promise<void> = previous
    .catch(() => {})
    .then(async () => {
      const [build, url] = buildOf(storage, wasmUrl, asyncWasmUrl)
      const loaded = load(build, url)
      if (rehearsed.has(loaded)) return
      const { module, sqlite3 } = await loaded
      await rehearse(sqlite3, module)
      rehearsed.add(loaded)
    })
    .finally(() => {
      if (warming === current) warming = undefined
    })
  warming = current
  return current
}

/**
 * No longer next in line: drop the builds loaded only to be warm. One a database was opened with
 * stays (its memory and IndexedDB VFSs are registered in it, and are found again by name).
 */
export function forgetBuilds(): void {
  for (const build of [...builds.keys()]) if (!opened.has(build)) builds.delete(build)
}

const memoryVfss = new Map<string, MemoryVFS>()

/** IndexedDB VFSs by database: named after their IndexedDB database, so registered once per worker. */
const idbVfss = new Map<string, Promise<{ readonly name: string }>>()

export async function openStorage(options: StorageOptions): Promise<DatabaseStorage> {
  try {
    return await open(options, warming?.catch(() => {}) ?? Promise.resolve())
  } catch (error) {
    if (error instanceof SqliteError || error instanceof StorageUnavailableError || error instanceof HandoffError) throw error
    throw new StorageUnavailableError(`Cannot open '${options.storage}' storage: ${(error as Error)?.message ?? error}`)
  }
}

/** Opens `options.storage`; the module is first used once `warmed` (a rehearsal) has settled. */
async function open(options: StorageOptions, warmed: Promise<void>): Promise<DatabaseStorage> {
  const name = `kysely-multitab-${++vfsCounter}`
  const [build, url] = buildOf(options.storage, options.wasmUrl, options.asyncWasmUrl)
  opened.add(build)
  const loading = warmed.then(() => load(build, url))
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

function syncStorage(
  kind: StorageKind,
  module: EmscriptenModule,
  sqlite3: SQLiteAPI,
  vfsName: string,
  vfs: RawVfs,
  close: () => Promise<void>,
): DatabaseStorage {
  return {
    kind,
    module,
    sqlite3,
    vfsName,
    close,
    async read(name) {
      const id = EXPORT_FILE_ID
      if (vfs.xOpen(name, id, SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READONLY, new DataView(new ArrayBuffer(4))) !== 0) {
        throw new SqliteError(`cannot open ${name} for reading`, SQLite.SQLITE_CANTOPEN)
      }
      try {
        const size = new DataView(new ArrayBuffer(8))
        vfs.xFileSize(id, size)
        const bytes = new Uint8Array(Number(size.getBigInt64(0, true)))
        const rc = vfs.xRead(id, bytes, 0)
        if (rc !== 0) throw new SqliteError(`cannot read ${name}`, rc)
        return bytes
      } finally {
        vfs.xClose(id)
      }
    },
    async write(name, bytes) {
      const id = EXPORT_FILE_ID
      const flags = SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READWRITE | SQLite.SQLITE_OPEN_CREATE
      if (vfs.xOpen(name, id, flags, new DataView(new ArrayBuffer(4))) !== 0) {
        throw new SqliteError(`cannot create ${name} (no free file in the pool)`, SQLite.SQLITE_CANTOPEN)
      }
      try {
        let rc = vfs.xTruncate(id, 0)
        if (rc === 0) rc = vfs.xWrite(id, bytes, 0)
        if (rc === 0) rc = vfs.xSync(id, 0)
        if (rc !== 0) throw new SqliteError(`cannot write ${name}`, rc)
      } finally {
        vfs.xClose(id)
      }
    },
    async remove(name) {
      vfs.xDelete(name, 0)
    },
  }
}
