// Workloads the benchmark runner drives in each tab. Timings are taken in the page.
import { Kysely, sql } from 'kysely'
import { MultiTabOpfsDialect } from '/dist/index.js'

const now = () => performance.now()

window.bench = {
  async open(filename, options = {}) {
    const t0 = now()
    window.dialect = new MultiTabOpfsDialect({ filename, ...options })
    window.db = new Kysely({ dialect: window.dialect })
    await sql`select 1`.execute(window.db)
    return now() - t0
  },
  async status() {
    return window.dialect.status()
  },
  async setup() {
    await sql`create table if not exists kv (id integer primary key, v text)`.execute(window.db)
    await sql`delete from kv`.execute(window.db)
    await window.db.transaction().execute(async (trx) => {
      for (let i = 1; i <= 1000; i++)
        await trx
          .insertInto('kv')
          .values({ id: i, v: `value ${i}` })
          .execute()
    })
  },
  /** Point selects by primary key awaited one by one: per-call latencies, and the block's mean. */
  async pointSelects(n) {
    const db = window.db
    for (let i = 0; i < 50; i++)
      await db
        .selectFrom('kv')
        .selectAll()
        .where('id', '=', 1 + (i % 1000))
        .execute()
    const each = []
    const t0 = now()
    for (let i = 0; i < n; i++) {
      const s = now()
      await db
        .selectFrom('kv')
        .selectAll()
        .where('id', '=', 1 + (i % 1000))
        .execute()
      each.push(now() - s)
    }
    return { total: now() - t0, each }
  },
  async insertsInTransaction(n) {
    const db = window.db
    await sql`create table if not exists ins (id integer primary key, v text)`.execute(db)
    await sql`delete from ins`.execute(db)
    const t0 = now()
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < n; i++)
        await trx
          .insertInto('ins')
          .values({ v: `row ${i}` })
          .execute()
    })
    return now() - t0
  },
  /** Resolves with the time from `t0Epoch` (Date.now() in the test) to a query answered by a new active tab. */
  async firstAnswerAfter(formerActive) {
    for (;;) {
      const s = await window.dialect.status()
      if (s.activeTabId && s.activeTabId !== formerActive) break
      await new Promise((r) => setTimeout(r, 1))
    }
    await sql`select 1`.execute(window.db)
    return Date.now()
  },
}
window.dispatchEvent(new Event('bench-ready'))
