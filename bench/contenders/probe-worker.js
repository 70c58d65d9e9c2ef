// Diagnostics for the breakdown: the dialect's own worker code (from src/), driven from inside one
// worker, so that no cross-thread hop is in the numbers.
//   engine:   SqliteEngine.exec() called in a loop (statement cache, authorizer, change tracking,
//             last-insert-rowid) - compare with the raw worker's in-worker loop (SQLite alone);
//   pipeline: ActiveDatabase fed ExecRequests over a MessageChannel whose both ends are in this
//             worker (validation, lease queue, freshness check, op ledger, reply) - adds two
//             same-thread message dispatches, measured alone as `hop`.
import { SqliteEngine } from '../../src/worker/sqlite-engine.ts'
import { LeaseQueue } from '../../src/worker/lease-queue.ts'
import { ActiveDatabase } from '../../src/worker/active-database.ts'
import { PROTOCOL_VERSION } from '../../src/protocol/message-fields.ts'
import { WORKLOAD_SQL, pointId, rowsForBatch, SETUP_SQL, kvFill } from './workload-sql.js'

const now = () => performance.now()
/** Candidate settings for the one connection the active worker has (see the report). */
/** Autocommit writes each sync OPFS (several ms each): a few suffice. */
const AUTOCOMMIT = 40
const BATCHES = 20
const BATCH_LIST = Array.from({ length: BATCHES }, (_, b) => rowsForBatch(b))
const PRAGMAS = ['pragma locking_mode = exclusive', 'pragma journal_mode = truncate']
const wasmUrl = new URL('./wa-sqlite.wasm', import.meta.url).href

async function timeLoop(n, call, warm = 50) {
  for (let i = 0; i < warm; i++) await call(i)
  const t = now()
  for (let i = 0; i < n; i++) await call(i)
  return (now() - t) / n
}

async function setup(exec) {
  for (const s of SETUP_SQL) await exec(s, [])
  await exec('begin', [])
  await exec('delete from "kv"', [])
  for (const { sql, params } of kvFill()) await exec(sql, params)
  await exec('commit', [])
}

async function engineRow(name, n, inserts, pragmas = []) {
  const engine = await SqliteEngine.open({
    storage: 'opfs-sahpool',
    asyncWasmUrl: '',
    directory: `bench-probe/${name}-engine${pragmas.length ? '-pragmas' : ''}`,
    filename: name,
    wasmUrl,
    attempts: 3,
    retryDelayMs: 25,
  })
  const exec = (sql, params) => engine.exec(sql, params)
  for (const p of pragmas) await exec(p, [])
  await setup(exec)
  const out = {}
  out.select1 = await timeLoop(n, () => exec(WORKLOAD_SQL.select1, []))
  out.point = await timeLoop(n, (i) => exec(WORKLOAD_SQL.point, [pointId(i)]))
  await exec('begin', [])
  out.insertInTransaction = await timeLoop(inserts, (i) => exec(WORKLOAD_SQL.insert, [`e ${i}`, i]), 0)
  await exec('commit', [])
  await exec('begin', [])
  out.batch500 = await timeLoop(BATCHES, (b) => exec(BATCH_LIST[b].sql, BATCH_LIST[b].params), 1)
  await exec('commit', [])
  out.autocommitInsert = await timeLoop(AUTOCOMMIT, (i) => exec(WORKLOAD_SQL.insert, [`a ${i}`, i]), 0)
  await engine.close()
  return out
}

/** The lease queue alone: one lease per statement, released before the next (as in a W1 loop). */
async function queueRow(n) {
  const queue = new LeaseQueue({ idleTimeoutMs: 10_000, onRevoke: () => {}, timeoutError: () => new Error('timeout') })
  let lease = 0
  return timeLoop(n, async () => {
    if (lease) queue.release({ tabId: 't', lease })
    lease++
    await queue.submit({ tabId: 't', lease }, () => {})
  })
}

async function hopRow(n) {
  const channel = new MessageChannel()
  channel.port1.onmessage = (e) => channel.port1.postMessage(e.data)
  let resolve
  channel.port2.onmessage = (e) => resolve(e.data)
  return timeLoop(
    n,
    (i) =>
      new Promise((r) => {
        resolve = r
        channel.port2.postMessage({ t: 'exec', id: i, sql: 'x', params: [] })
      }),
  )
}

/** The pipeline again with the lease queue short-circuited (run at once), to see its share in place. */
async function pipelineWithoutQueue(name, n, inserts) {
  // The worker queues with enqueue() (submit() is the same with a Promise, for callers that want one).
  const { enqueue, release } = LeaseQueue.prototype
  LeaseQueue.prototype.enqueue = function (_lease, run, reject) {
    const ran = run()
    if (ran) ran.catch(reject)
  }
  LeaseQueue.prototype.release = function () {}
  try {
    return await pipelineRow(`${name}-noqueue`, n, inserts)
  } finally {
    LeaseQueue.prototype.enqueue = enqueue
    LeaseQueue.prototype.release = release
  }
}

/** The pipeline again with setTimeout/clearTimeout made no-ops (the lease queue's per-statement idle timer). */
async function pipelineWithoutTimers(name, n, inserts) {
  const { setTimeout: st, clearTimeout: ct } = globalThis
  globalThis.setTimeout = () => 0
  globalThis.clearTimeout = () => {}
  try {
    return await pipelineRow(`${name}-notimers`, n, inserts)
  } finally {
    globalThis.setTimeout = st
    globalThis.clearTimeout = ct
  }
}

async function pipelineRow(name, n, inserts) {
  let db
  let activated
  const ready = new Promise((r) => (activated = r))
  const toCoordinator = (m) => {
    if (m.t === 'activated') activated()
    else if (m.t === 'heartbeat' && m.seq > 0) queueMicrotask(() => db.acknowledge(m.epoch, m.seq))
  }
  const init = {
    t: 'init',
    v: PROTOCOL_VERSION,
    tabId: 'probe',
    filename: name,
    directory: `bench-probe/${name}-pipeline`,
    wasmUrl,
    coordinatorPort: new MessageChannel().port1,
    roleLock: `bench-probe-role-${name}`,
    leaseTimeoutMs: 10_000,
    hangTimeoutMs: 4_000,
    openAttempts: 3,
    openRetryDelayMs: 25,
    debug: false,
    warmStandby: false,
    statementTimeoutMs: 60_000,
    connectionSetup: [],
  }
  db = new ActiveDatabase({ storage: 'opfs-sahpool', ...init }, wasmUrl, '', toCoordinator)
  db.activate(1, false)
  await ready
  const channel = new MessageChannel()
  // Newer src/ serves a brokered port only after the coordinator's token is shown on it.
  db.attach(1, 'probe-tab', channel.port1, 'probe-token')
  const port = channel.port2
  port.postMessage({ t: 'hello', token: 'probe-token' })
  const pending = new Map()
  port.onmessage = (e) => {
    const p = pending.get(e.data.id)
    pending.delete(e.data.id)
    if (e.data.t === 'result') p.resolve(e.data)
    else p.reject(new Error(JSON.stringify(e.data)))
  }
  let nextId = 1
  let nextLease = 1
  let releases = []
  const send = (lease, sql, params, extra = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      const message = { t: 'exec', id, lease, sql, params, ...extra }
      if (releases.length) {
        message.releases = releases
        releases = []
      }
      port.postMessage(message)
    })
  // One query per lease, its release riding on the next statement (as the tab client does).
  const single = async (sql, params, extra) => {
    const lease = nextLease++
    const r = await send(lease, sql, params, extra)
    releases.push(lease)
    return r
  }
  // Its transaction is one connection scope, as Kysely's would be: a lease released with a
  // transaction open is rolled back.
  const setupLease = nextLease++
  await setup((sql, params) => send(setupLease, sql, params))
  releases.push(setupLease)
  const out = {}
  out.select1 = await timeLoop(n, () => single(WORKLOAD_SQL.select1, []))
  out.point = await timeLoop(n, (i) => single(WORKLOAD_SQL.point, [pointId(i)]))
  const lease = nextLease++
  await send(lease, 'begin', [])
  out.insertInTransaction = await timeLoop(inserts, (i) => send(lease, WORKLOAD_SQL.insert, [`p ${i}`, i]), 0)
  await send(lease, 'commit', [], { op: `probe-tab:commit`, commit: true })
  releases.push(lease)
  const lease2 = nextLease++
  await send(lease2, 'begin', [])
  out.batch500 = await timeLoop(BATCHES, (b) => send(lease2, BATCH_LIST[b].sql, BATCH_LIST[b].params), 1)
  await send(lease2, 'commit', [], { op: `probe-tab:commit2`, commit: true })
  releases.push(lease2)
  let op = 1
  out.autocommitInsertRaw = await timeLoop(AUTOCOMMIT, (i) => single(WORKLOAD_SQL.insert, [`r ${i}`, i]), 0)
  out.autocommitInsertWithOp = await timeLoop(
    AUTOCOMMIT,
    (i) => single(WORKLOAD_SQL.insert, [`o ${i}`, i], { op: `probe-tab:${op++}`, retry: false }),
    0,
  )
  await db.deactivate({ drain: false })
  return out
}

self.onmessage = async (event) => {
  const { name, n, inserts, only } = event.data
  try {
    if (only === 'pipeline' || only === 'hop') {
      // For profiling: wait for the profiler to attach, then the pipeline (or the bare hop) alone.
      await new Promise((r) => setTimeout(r, 1500))
      self.postMessage(only === 'hop' ? { hop: await hopRow(n) } : { pipeline: await pipelineRow(name, n, inserts) })
      return
    }
    const engine = await engineRow(name, n, inserts)
    const enginePragmas = await engineRow(name, n, inserts, PRAGMAS)
    const hop = await hopRow(n)
    const queue = await queueRow(n * 4)
    const pipeline = await pipelineRow(name, n, inserts)
    const pipelineNoQueue = await pipelineWithoutQueue(name, n, inserts)
    const pipelineNoTimers = await pipelineWithoutTimers(name, n, inserts)
    self.postMessage({ engine, enginePragmas, pragmas: PRAGMAS, hop, queue, pipeline, pipelineNoQueue, pipelineNoTimers })
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) })
  }
}
