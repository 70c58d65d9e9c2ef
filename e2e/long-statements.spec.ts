// Long and runaway statements: a statement that runs for several hang bounds finishes where it
// started (the worker heartbeats from inside SQLite), a runaway one ends with a typed error at the
// statement time limit, and neither moves the active role or keeps the other tabs waiting for long.
import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { activeTab, countTo, rowsForMs } from './support/failover.js'
import { handoffCount, openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

const HANG_TIMEOUT_MS = 1000

async function tabs(context: BrowserContext, options: Record<string, unknown> = {}) {
  const file = uniqueFilename('long')
  const merged = { hangTimeoutMs: HANG_TIMEOUT_MS, ...options }
  const all = [await openTab(context, file, merged), await openTab(context, file, merged), await openTab(context, file, merged)]
  await query(all[0]!, 'create table t (id integer primary key, v integer)')
  for (const tab of all) await query(tab, 'select 1')
  const active = await activeTab(all)
  const [b, c] = all.filter((t) => t !== active) as [Page, Page]
  return { active, b, c, activeTabId: (await status(active)).tabId }
}

/** Runs `sqlText` in the tab without waiting; `settled(page)` then gives its outcome. */
function start(page: Page, sqlText: string) {
  return page.evaluate((s) => {
    const t0 = performance.now()
    ;(window as any).outcome = window.db.executeQuery(window.harness.CompiledQuery.raw(s)).then(
      (r: any) => ({ ok: true, rows: r.rows, changes: r.numAffectedRows?.toString(), ms: performance.now() - t0 }),
      (e: any) => ({ ok: false, error: window.harness.describe(e), ms: performance.now() - t0 }),
    )
  }, sqlText)
}
const settled = (page: Page) => page.evaluate(() => (window as any).outcome)

test('a read and a write each running over twice hangTimeoutMs finish where they started, and the other tabs are served after', async ({
  context,
}) => {
  const { active, b, c, activeTabId } = await tabs(context)
  // Aimed at 4 bounds, asserted over 2: the estimate comes from short runs on a busy machine.
  const rows = await rowsForMs(b, HANG_TIMEOUT_MS * 4)
  const before = await handoffCount(c)
  // A long read from a follower, while another follower waits behind it.
  await start(b, countTo(rows))
  await new Promise((r) => setTimeout(r, 200))
  const waited = await tryQuery(c, 'select 1 as one')
  const read = await settled(b)
  expect(read).toMatchObject({ ok: true, rows: [{ 'count(*)': rows }] })
  expect(read.ms).toBeGreaterThan(HANG_TIMEOUT_MS * 2)
  expect(waited).toMatchObject({ ok: true, rows: [{ one: 1 }] })
  // A long write from the active tab itself.
  const inserted = Math.round(rows / 2) // inserting a row costs more than counting it
  await start(active, `insert into t (v) ${countTo(inserted).replace('select count(*) from c', 'select x from c')}`)
  const write = await settled(active)
  expect(write).toMatchObject({ ok: true, changes: String(inserted) })
  expect(write.ms).toBeGreaterThan(HANG_TIMEOUT_MS * 2)
  // The role never moved.
  for (const tab of [active, b, c]) expect((await status(tab)).activeTabId).toBe(activeTabId)
  expect(await handoffCount(c)).toBe(before)
  expect(await query(c, 'select count(*) as n from t')).toEqual([{ n: inserted }])
})

test('a runaway recursive CTE from a follower, raw or built, ends with SQLITE_INTERRUPT at statementTimeoutMs; the tabs keep working, no hand-off loop', async ({
  context,
}) => {
  const limit = 1500
  const { active, b, c, activeTabId } = await tabs(context, { statementTimeoutMs: limit })
  const before = await handoffCount(c)
  const runaway = 'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c'
  await start(b, runaway)
  await new Promise((r) => setTimeout(r, 200))
  const meanwhile = await tryQuery(c, 'insert into t (v) values (1)') // waits behind it, then runs
  const raw = await settled(b)
  expect(raw).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_INTERRUPT', retryable: false } })
  expect(raw.error.message).toContain('statementTimeoutMs')
  expect(raw.ms).toBeGreaterThan(limit)
  expect(raw.ms).toBeLessThan(limit + 1000)
  expect(meanwhile).toMatchObject({ ok: true })
  const built = await b.evaluate(async () => {
    const t0 = performance.now()
    try {
      await window.db
        .withRecursive('c(x)', (db: any) =>
          db
            .selectNoFrom((eb: any) => eb.lit(1).as('x'))
            .unionAll(db.selectFrom('c').select((eb: any) => eb('x', '+', 1).as('x'))),
        )
        .selectFrom('c')
        .select((eb: any) => eb.fn.countAll().as('n'))
        .executeTakeFirst()
      return { ok: true, ms: performance.now() - t0 }
    } catch (e) {
      return { ok: false, error: window.harness.describe(e), ms: performance.now() - t0 }
    }
  })
  expect(built).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_INTERRUPT', retryable: false } })
  expect(built.ms).toBeLessThan(limit + 1000)
  // Nobody moved, and everyone is served; the connection and the lease were left clean.
  for (const tab of [active, b, c]) {
    expect((await status(tab)).activeTabId).toBe(activeTabId)
    expect(await query(tab, 'select count(*) as n from t')).toEqual([{ n: 1 }])
  }
  expect(await handoffCount(c)).toBe(before)
  expect(await tryQuery(b, 'insert into t (v) values (2)')).toMatchObject({ ok: true })
})

test('health(), exportDatabase() and importDatabase() of a database whose check takes longer than hangTimeoutMs finish, and the role stays', async ({
  context,
}) => {
  // 25 MB filled, checked, exported and imported, on a machine that may be busy.
  test.setTimeout(120_000)
  const { active, b, activeTabId } = await tabs(context, { hangTimeoutMs: 1000, requestTimeoutMs: 30_000 })
  const rowsOfKb = 25_000
  const t0 = Date.now()
  await query(
    active,
    `insert into t (v) select randomblob(1000) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < ${rowsOfKb}) select x from c)`,
  )
  console.log(`filled in ${Date.now() - t0} ms`)
  const health = await b.evaluate(async () => {
    const t0 = performance.now()
    const h = await window.dialect.health()
    return { quickCheck: h.database.quickCheck, ms: performance.now() - t0 }
  })
  expect(health.quickCheck).toBe('ok')
  console.log(`health() of a ${rowsOfKb} kB-row database: ${health.ms.toFixed(0)} ms`)
  expect(health.ms).toBeGreaterThan(1000) // longer than the hang bound: the heartbeat came from inside SQLite
  const copied = await b.evaluate(async () => {
    const file = await window.dialect.exportDatabase()
    const t0 = performance.now()
    await window.dialect.importDatabase(file)
    return { size: file.byteLength, importMs: performance.now() - t0 }
  })
  expect(copied.size).toBeGreaterThan(rowsOfKb * 1000)
  console.log(`importDatabase() of it: ${copied.importMs.toFixed(0)} ms`)
  expect(await query(b, 'select count(*) as n from t')).toEqual([{ n: rowsOfKb }])
  expect((await status(b)).activeTabId).toBe(activeTabId)
  expect(await handoffCount(b)).toBe(0)
})

test('a slow ledger prune, when a tab takes the database over, causes no second hand-off', async ({ context }) => {
  // 800,000 ledger entries written, then pruned by the next holder, on a machine that may be busy.
  test.setTimeout(120_000)
  const { active, b, c, activeTabId } = await tabs(context, { hangTimeoutMs: 1000, requestTimeoutMs: 30_000 })
  // Old entries the next holder prunes at activation, as after a long burst of builder writes.
  await query(
    active,
    "insert into _kysely_multitab_ops (op, at) select 'old:' || x, 0 from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 800000) select x from c)",
  )
  await active.close()
  const after = await Promise.all([b, c].map((tab) => tryQuery(tab, 'select count(*) as n from t')))
  for (const r of after) expect(r).toMatchObject({ ok: true })
  await new Promise((r) => setTimeout(r, 3000)) // past the prune, a few hang bounds
  expect(await query(b, "select count(*) as n from _kysely_multitab_ops where op like 'old:%'")).toEqual([{ n: 0 }])
  const newActive = (await status(b)).activeTabId
  expect(newActive).not.toBe(activeTabId)
  expect((await status(c)).activeTabId).toBe(newActive)
  expect(await handoffCount(b)).toBe(1)
})

test("Kysely 0.29's abort signal: 'ignore query' stops waiting while the statement runs on to its limit; 'cancel query' is refused by Kysely", async ({
  context,
}) => {
  const { b, c } = await tabs(context, { statementTimeoutMs: 1500 })
  const runaway = 'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c'
  const outcome = await b.evaluate(async (s) => {
    const { sql } = window.harness
    const t0 = performance.now()
    const attempt = async (options: object) => {
      try {
        await sql.raw(s).execute(window.db, options as any)
        return { ok: true }
      } catch (e) {
        return { ok: false, error: window.harness.describe(e), ms: performance.now() - t0 }
      }
    }
    const ignored = await attempt({ signal: AbortSignal.timeout(100) })
    const cancel = await attempt({ signal: AbortSignal.timeout(100), inflightQueryAbortStrategy: 'cancel query' })
    return { ignored, cancel }
  }, runaway)
  // The app stopped waiting long before the statement's limit (it ran on, and was interrupted there).
  expect(outcome.ignored).toMatchObject({ ok: false, error: { name: 'TimeoutError' } })
  expect(outcome.ignored.ms).toBeLessThan(1000)
  expect(outcome.cancel).toMatchObject({ ok: false, error: { message: expect.stringContaining("doesn't support") } })
  expect(await query(c, 'select count(*) as n from t')).toEqual([{ n: 0 }])
})
