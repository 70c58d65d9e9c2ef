// The timed workloads, run in a page. Two flavours with the same statements: through Kysely (the
// dialects, and raw behind a minimal dialect) and straight on a raw client (exec(sql, params)).
// Every workload returns { total, each }: the block's time (ms) and each call's time (ms). The
// page is not cross-origin isolated (except SQLocal's), so performance.now() is coarse (0.1 ms):
// per-call values are for percentiles, the block's total / n for the mean.
import { CompiledQuery, sql } from 'kysely'
import { BATCH_ROWS, SETUP_SQL, TABLE_ROWS, WORKLOAD_SQL, batchRows, kvFill, pointId, rowsForBatch } from './workload-sql.js'

const now = () => performance.now()
export const WARM_UP = 50
/** Settings that change write costs; reported for every contender. */
const PRAGMAS = ['journal_mode', 'synchronous', 'locking_mode', 'page_size', 'cache_size']

/** Workloads through a Kysely instance. */
export function kyselyWorkloads(db) {
  const point = (i) => db.selectFrom('kv').selectAll().where('id', '=', pointId(i)).execute()
  const select1 = () => sql`select 1 as x`.execute(db)
  const rawExec = (text, params = []) => db.executeQuery(CompiledQuery.raw(text, params))
  return {
    checkCompiledSql() {
      const got = {
        point: db.selectFrom('kv').selectAll().where('id', '=', 1).compile().sql,
        insert: db.insertInto('ins').values({ v: 'a', n: 1 }).compile().sql,
        selectAll: db.selectFrom('kv').selectAll().compile().sql,
        batch: db.insertInto('ins').values(batchRows(0)).compile().sql,
      }
      for (const [k, v] of Object.entries(got))
        if (v !== WORKLOAD_SQL[k]) throw new Error(`Kysely compiled ${k} differently: ${v}`)
      return true
    },
    async setup() {
      for (const s of SETUP_SQL) await rawExec(s)
      await db.transaction().execute(async (trx) => {
        await trx.executeQuery(CompiledQuery.raw('delete from "kv"'))
        for (const { sql: text, params } of kvFill()) await trx.executeQuery(CompiledQuery.raw(text, params))
      })
      const [{ c }] = (await rawExec('select count(*) as c from "kv"')).rows
      if (Number(c) !== TABLE_ROWS) throw new Error(`kv has ${c} rows`)
      return Number(c)
    },
    async pragmas() {
      const out = {}
      for (const p of PRAGMAS) out[p] = Object.values((await rawExec(`pragma ${p}`)).rows[0] ?? {})[0]
      return out
    },
    select1: (n) => loop(n, select1),
    point: (n) => loop(n, point),
    pointAll: (n) => together(n, point),
    async inserts(n) {
      await rawExec('delete from "ins"')
      const each = new Array(n)
      const start = now()
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < n; i++) {
          const t = now()
          await trx
            .insertInto('ins')
            .values({ v: `row ${i}`, n: i })
            .execute()
          each[i] = now() - t
        }
      })
      return { total: now() - start, each }
    },
    async batches(n) {
      await rawExec('delete from "ins"')
      const rows = Array.from({ length: n }, (_, b) => batchRows(b))
      const each = new Array(n)
      const start = now()
      await db.transaction().execute(async (trx) => {
        for (let b = 0; b < n; b++) {
          const t = now()
          await trx.insertInto('ins').values(rows[b]).execute()
          each[b] = now() - t
        }
      })
      const total = now() - start
      const [{ c }] = (await rawExec('select count(*) as c from "ins"')).rows
      if (Number(c) !== n * BATCH_ROWS) throw new Error(`ins has ${c} rows, expected ${n * BATCH_ROWS}`)
      return { total, each }
    },
    selectAll: (n) =>
      loop(
        n,
        async () => {
          const rows = await db.selectFrom('kv').selectAll().execute()
          if (rows.length !== TABLE_ROWS || rows[9].v === undefined) throw new Error(`selectAll got ${rows.length} rows`)
        },
        1,
      ),
    /** Mixed read/write until `endAt` (Date.now()): 4 point selects to 1 autocommit insert. */
    mixed: (startAt, endAt, seed) =>
      mixedLoop(startAt, endAt, seed, point, (i) =>
        db
          .insertInto('ins')
          .values({ v: `mixed ${seed} ${i}`, n: i })
          .execute(),
      ),
  }
}

/** The same workloads on a raw client: exec(sql, params) -> { columns, rows } | { changes }. */
export function rawWorkloads(exec) {
  const point = (i) => exec(WORKLOAD_SQL.point, [pointId(i)])
  const select1 = () => exec(WORKLOAD_SQL.select1, [])
  return {
    async setup() {
      for (const s of SETUP_SQL) await exec(s, [])
      await exec('begin', [])
      await exec('delete from "kv"', [])
      for (const { sql: text, params } of kvFill()) await exec(text, params)
      await exec('commit', [])
      const r = await exec('select count(*) as c from "kv"', [])
      return r.rows[0][0]
    },
    async pragmas() {
      const out = {}
      for (const p of PRAGMAS) out[p] = (await exec(`pragma ${p}`, [])).rows[0]?.[0]
      return out
    },
    select1: (n) => loop(n, select1),
    point: (n) => loop(n, point),
    pointAll: (n) => together(n, point),
    async inserts(n) {
      await exec('delete from "ins"', [])
      const each = new Array(n)
      const start = now()
      await exec('begin', [])
      for (let i = 0; i < n; i++) {
        const t = now()
        await exec(WORKLOAD_SQL.insert, [`row ${i}`, i])
        each[i] = now() - t
      }
      await exec('commit', [])
      return { total: now() - start, each }
    },
    async batches(n) {
      await exec('delete from "ins"', [])
      const batches = Array.from({ length: n }, (_, b) => rowsForBatch(b))
      const each = new Array(n)
      const start = now()
      await exec('begin', [])
      for (let b = 0; b < n; b++) {
        const t = now()
        await exec(batches[b].sql, batches[b].params)
        each[b] = now() - t
      }
      await exec('commit', [])
      return { total: now() - start, each }
    },
    selectAll: (n) =>
      loop(
        n,
        async () => {
          const r = await exec(WORKLOAD_SQL.selectAll, [])
          if (r.rows.length !== TABLE_ROWS) throw new Error(`selectAll got ${r.rows.length} rows`)
        },
        1,
      ),
    mixed: (startAt, endAt, seed) =>
      mixedLoop(startAt, endAt, seed, point, (i) => exec(WORKLOAD_SQL.insert, [`mixed ${seed} ${i}`, i])),
  }
}

async function loop(n, call, warmUp = WARM_UP) {
  for (let i = 0; i < warmUp; i++) await call(i)
  const each = new Array(n)
  const start = now()
  for (let i = 0; i < n; i++) {
    const t = now()
    await call(i)
    each[i] = now() - t
  }
  return { total: now() - start, each }
}

/** The same calls as `loop`, but `TOGETHER` at a time with Promise.all; `each` is per group / size. */
export const TOGETHER = 50
async function together(n, call) {
  await loop(0, call)
  const each = []
  const start = now()
  for (let i = 0; i < n; i += TOGETHER) {
    const t = now()
    const size = Math.min(TOGETHER, n - i)
    await Promise.all(Array.from({ length: size }, (_, j) => call(i + j)))
    each.push((now() - t) / size)
  }
  return { total: now() - start, each }
}

async function mixedLoop(startAt, endAt, seed, read, write) {
  while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 1))
  let reads = 0
  let writes = 0
  let errors = 0
  let firstError
  const each = []
  for (let i = seed * 1000; Date.now() < endAt; i++) {
    const t = now()
    try {
      if (i % 5 === 4) {
        await write(i)
        writes++
      } else {
        await read(i)
        reads++
      }
    } catch (error) {
      errors++
      firstError ??= String(error?.message ?? error)
    }
    each.push(now() - t)
  }
  return { reads, writes, errors, firstError, each }
}
