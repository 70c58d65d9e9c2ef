/**
 * The wa-sqlite builds this worker loads: the sync one, which serves the access-handle pool and
 * memory, and the Asyncify one (a separate wasm, fetched only when a fallback needs it), which
 * serves the OPFS-writable and IndexedDB VFSs, whose calls suspend. Each is fetched and started
 * once (a load that failed is tried afresh); one a database was opened with stays, for its VFSs are
 * registered in it.
 *
 * A warm standby loads and rehearses its build ahead of a failover (see warm-up.ts); no longer next
 * in line, it lets go of what no database uses.
 */
import SQLiteESMFactory from 'wa-sqlite/dist/wa-sqlite.mjs'
import * as SQLite from 'wa-sqlite'
import type { StorageKind } from '../protocol/message-fields.js'
import { rehearse } from './warm-up.js'
import { compileSqliteWasm, instantiateSqliteWasm } from './wasm-fetch.js'

export type EmscriptenModule = {
  _sqlite3_malloc(n: number): number
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number
  _getSqliteFree(): number
  UTF8ToString(ptr: number): string
}

export type Build = 'sync' | 'async'
export type Loaded = { module: EmscriptenModule; sqlite3: SQLiteAPI }
const builds = new Map<Build, Promise<Loaded>>()

/** The build, loaded (fetched, compiled and started) once. */
export function loadBuild(build: Build, wasmUrl: string): Promise<Loaded> {
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
export function buildOf(storage: StorageKind, wasmUrl: string, asyncWasmUrl: string): [Build, string] {
  return storage === 'opfs' || storage === 'idb' ? ['async', asyncWasmUrl] : ['sync', wasmUrl]
}

/** Starts fetching and compiling the wasm of `storage` (e.g. while waiting for the role lock). */
export function preloadStorage(storage: StorageKind, wasmUrl: string, asyncWasmUrl: string): void {
  void loadBuild(...buildOf(storage, wasmUrl, asyncWasmUrl)).catch(() => {})
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
const opened = new Set<Build>()

/** Loads the wasm of `storage` and runs SQLite once on a throwaway in-memory database. */
export function warmStorage(storage: StorageKind, wasmUrl: string, asyncWasmUrl: string): Promise<void> {
  // One after the other: a rehearsal for a build forgotten meanwhile is followed by a fresh one.
  const previous = warming ?? Promise.resolve()
  const current: Promise<void> = previous
    .catch(() => {})
    .then(async () => {
      const [build, url] = buildOf(storage, wasmUrl, asyncWasmUrl)
      const loaded = loadBuild(build, url)
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

/** Settles once the rehearsal under way, if any, has (however it ended). */
export function rehearsalSettled(): Promise<void> {
  return warming?.catch(() => {}) ?? Promise.resolve()
}

/** A database is opened with `build`: it stays (see forgetBuilds). */
export function keepBuild(build: Build): void {
  opened.add(build)
}

/**
 * No longer next in line: drop the builds loaded only to be warm. One a database was opened with
 * stays (its memory and IndexedDB VFSs are registered in it, and are found again by name).
 */
export function forgetBuilds(): void {
  for (const build of [...builds.keys()]) if (!opened.has(build)) builds.delete(build)
}
