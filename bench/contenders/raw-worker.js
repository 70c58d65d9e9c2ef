// The floor: wa-sqlite 1.0.0 (sync build) on OPFS through AccessHandlePoolVFS, in a
// DedicatedWorker, answering plain postMessage requests. No leases, no ledger, no authorizer, no
// heartbeats: what any design built on the same VFS pays at least. Also runs the workloads itself
// (no message per statement) to time SQLite alone.
import SQLiteESMFactory from 'wa-sqlite/dist/wa-sqlite.mjs'
import * as SQLite from 'wa-sqlite'
import { AccessHandlePoolVFS } from 'wa-sqlite/src/examples/AccessHandlePoolVFS.js'
import { WORKLOAD_SQL, pointId, rowsForBatch } from './workload-sql.js'

let sqlite3
let db = 0
const cache = new Map()
const t0 = performance.now()
let openMs
let openSteps

async function open({ directory, filename, wasmUrl }) {
  const t1 = performance.now()
  const module = await SQLiteESMFactory({ locateFile: () => wasmUrl })
  sqlite3 = SQLite.Factory(module)
  const t2 = performance.now()
  const vfs = new AccessHandlePoolVFS(directory)
  await vfs.isReady
  sqlite3.vfs_register(vfs, false)
  const t3 = performance.now()
  db = await sqlite3.open_v2(filename, SQLite.SQLITE_OPEN_CREATE | SQLite.SQLITE_OPEN_READWRITE, vfs.name)
  await exec('select count(*) from sqlite_master', [])
  openMs = performance.now() - t0
  // Worker start to first message, wasm fetch + compile + instantiate, OPFS pool, sqlite open.
  openSteps = { workerStartMs: t1 - t0, wasmMs: t2 - t1, opfsPoolMs: t3 - t2, sqliteOpenMs: performance.now() - t3 }
}

/** One statement: prepared once per SQL text and kept (as any serious wrapper does). */
async function exec(sql, params) {
  let stmt = cache.get(sql)
  if (stmt === undefined) {
    const str = sqlite3.str_new(db, sql)
    try {
      const prepared = await sqlite3.prepare_v2(db, sqlite3.str_value(str))
      stmt = prepared ? prepared.stmt : 0
    } finally {
      sqlite3.str_finish(str)
    }
    // Statements without a program (empty SQL) are not cached.
    if (!stmt) return { changes: 0 }
    cache.set(sql, stmt)
  }
  try {
    if (params && params.length) {
      for (let i = 0; i < params.length; i++) {
        const v = params[i]
        if (v === null) sqlite3.bind_null(stmt, i + 1)
        else if (typeof v === 'number')
          Number.isInteger(v) && v <= 0x7fffffff && v >= -0x80000000
            ? sqlite3.bind_int(stmt, i + 1, v)
            : sqlite3.bind_double(stmt, i + 1, v)
        else if (typeof v === 'string') sqlite3.bind_text(stmt, i + 1, v)
        else sqlite3.bind(stmt, i + 1, v)
      }
    }
    const ncol = sqlite3.column_count(stmt)
    if (ncol > 0) {
      const columns = sqlite3.column_names(stmt)
      const rows = []
      while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) rows.push(sqlite3.row(stmt))
      return { columns, rows }
    }
    while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) {}
    return { changes: sqlite3.changes(db) }
  } finally {
    await sqlite3.reset(stmt)
  }
}

/** The workloads, run here: per-statement times and the block's total, no message per statement. */
async function runInside(name, n) {
  const now = () => performance.now()
  const each = []
  let t
  let start = now()
  switch (name) {
    case 'select1':
      for (let i = 0; i < 50; i++) await exec(WORKLOAD_SQL.select1, [])
      start = now()
      for (let i = 0; i < n; i++) {
        t = now()
        await exec(WORKLOAD_SQL.select1, [])
        each.push(now() - t)
      }
      break
    case 'point':
      for (let i = 0; i < 50; i++) await exec(WORKLOAD_SQL.point, [pointId(i)])
      start = now()
      for (let i = 0; i < n; i++) {
        t = now()
        await exec(WORKLOAD_SQL.point, [pointId(i)])
        each.push(now() - t)
      }
      break
    case 'pointAll':
      start = now()
      for (let i = 0; i < n; i += 50) {
        t = now()
        await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => exec(WORKLOAD_SQL.point, [pointId(i + j)])))
        each.push((now() - t) / Math.min(50, n - i))
      }
      break
    case 'inserts':
      await exec('begin', [])
      for (let i = 0; i < n; i++) {
        t = now()
        await exec(WORKLOAD_SQL.insert, [`row ${i}`, i])
        each.push(now() - t)
      }
      await exec('commit', [])
      break
    case 'autocommit':
      for (let i = 0; i < n; i++) {
        t = now()
        await exec(WORKLOAD_SQL.insert, [`auto ${i}`, i])
        each.push(now() - t)
      }
      break
    case 'batches': {
      await exec('begin', [])
      for (let b = 0; b < n; b++) {
        const { sql, params } = rowsForBatch(b)
        t = now()
        await exec(sql, params)
        each.push(now() - t)
      }
      await exec('commit', [])
      break
    }
    case 'selectAll': {
      await exec(WORKLOAD_SQL.selectAll, [])
      start = now()
      for (let i = 0; i < n; i++) {
        t = now()
        const r = await exec(WORKLOAD_SQL.selectAll, [])
        each.push(now() - t)
        if (r.rows.length < 1) throw new Error('no rows')
      }
      break
    }
  }
  return { total: now() - start, each }
}

async function handle(data, reply) {
  const { id } = data
  try {
    if (data.t === 'open') {
      await open(data)
      reply({ id, openMs, openSteps })
    } else if (data.t === 'inside') {
      reply({ id, ...(await runInside(data.name, data.n)) })
    } else {
      reply({ id, ...(await exec(data.sql, data.params)) })
    }
  } catch (error) {
    reply({ id, error: String(error?.message ?? error) })
  }
}

self.onmessage = (event) => {
  const data = event.data
  if (data?.t === 'attach') {
    // A follower tab's direct line (brokered by the bench SharedWorker).
    const port = data.port
    port.onmessage = (e) => handle(e.data, (m) => port.postMessage(m))
    return
  }
  handle(data, (m) => self.postMessage(m))
}
