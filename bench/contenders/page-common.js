// Helpers every bench page exposes: where the data lives, and the page's JS heap; and the end of
// every Kysely contender's open().
import { sql } from 'kysely'
import { kyselyWorkloads } from './workloads.js'

/** Every OPFS file (path, bytes) whose path contains one of `hints`, and the IndexedDB databases. */
export async function where(hints) {
  const files = []
  const walk = async (dir, path) => {
    for await (const [name, handle] of dir.entries()) {
      const p = path ? `${path}/${name}` : name
      if (handle.kind === 'directory') await walk(handle, p)
      else if (hints.some((h) => p.includes(h))) {
        let bytes = -1
        try {
          bytes = (await handle.getFile()).size
        } catch {
          // Held by a sync access handle in a worker: size unknown from here.
        }
        files.push({ path: p, bytes })
      }
    }
  }
  try {
    await walk(await navigator.storage.getDirectory(), '')
  } catch (error) {
    files.push({ path: `(OPFS walk failed: ${error.message})`, bytes: -1 })
  }
  let idb = []
  try {
    idb = (await indexedDB.databases()).map((d) => d.name)
  } catch {
    idb = ['(indexedDB.databases() unavailable)']
  }
  return {
    opfsFiles: files,
    opfsBytes: files.reduce((s, f) => s + Math.max(0, f.bytes), 0),
    indexedDb: idb.filter((n) => hints.some((h) => n?.includes(h))),
    indexedDbAll: idb,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
  }
}

export function heap() {
  const m = performance.memory
  return m ? { usedJSHeapSize: m.usedJSHeapSize, totalJSHeapSize: m.totalJSHeapSize } : undefined
}

/**
 * The end of every Kysely contender's open(): its first answer, then the workloads on its db.
 * `bench` is the page's window.bench; returns ms since `t0` (performance.now() at the start).
 */
export async function firstAnswer(bench, filename, t0) {
  await sql`select 1`.execute(bench.db)
  const ms = performance.now() - t0
  bench.filename = filename
  bench.k = kyselyWorkloads(bench.db)
  bench.k.checkCompiledSql()
  return { ms }
}
