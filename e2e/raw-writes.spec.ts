// Raw SQL writes (`sql` templates, CompiledQuery.raw) are as safe as builder writes across a
// failover: each carries an operation id, and the active worker records it with the write when
// SQLite says the statement can be recorded. Two followers write through the active tab's close,
// crash or hang; every write resolves, and its effect is there exactly once.
import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { activeTab, crashTab, stallTabWorker, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

const options = { hangTimeoutMs: 1500, requestTimeoutMs: 30_000 }
const WRITES = 25

/**
 * Starts `WRITES` raw statements, one after another, cycling through five kinds: a plain insert, an
 * upsert that inserts, an insert ... returning, an update of the row of the plain insert before, and
 * a delete of a seeded row. Outcomes are kept in `window.rawOutcomes`.
 */
function startWriter(page: Page, writer: string) {
  return page.evaluate(
    ([w, count]) => {
      const { CompiledQuery } = window.harness
      const outcomes: Array<{ i: number; ok: boolean; error?: string; rows?: unknown[] }> = ((window as any).rawOutcomes = [])
      ;(window as any).rawDone = (async () => {
        for (let i = 0; i < count; i++) {
          const key = `${w}-${i}`
          const statements = [
            ['insert into t (k, n) values (?, 0)', [key]],
            ['insert into t (k, n) values (?, 1) on conflict (k) do update set n = n + 1', [key]],
            ['insert into t (k, n) values (?, 2) returning k', [key]],
            ['update t set n = n + 100 where k = ?', [`${w}-${i - 3}`]],
            ['delete from t where k = ?', [`seed-${key}`]],
          ] as const
          const [sqlText, params] = statements[i % 5]!
          try {
            const result = await window.db.executeQuery(CompiledQuery.raw(sqlText, [...params]))
            outcomes.push({ i, ok: true, rows: result.rows })
          } catch (e: any) {
            outcomes.push({ i, ok: false, error: e.name })
          }
          await new Promise((r) => setTimeout(r, 30))
        }
      })()
    },
    [writer, WRITES] as const,
  )
}

async function setUp(context: BrowserContext) {
  const file = uniqueFilename('raw')
  const tabs = [
    await openTab(context, file, options),
    await openTab(context, file, options),
    await openTab(context, file, options),
  ]
  await query(tabs[0]!, 'create table t (id integer primary key, k text unique, n integer)')
  for (const tab of tabs) await query(tab, 'select 1')
  const active = await activeTab(tabs)
  const [b, c] = tabs.filter((t) => t !== active) as [Page, Page]
  for (const [page, w] of [
    [b, 'b'],
    [c, 'c'],
  ] as const) {
    for (let i = 4; i < WRITES; i += 5) await query(page, 'insert into t (k, n) values (?, -1)', [`seed-${w}-${i}`])
  }
  return { active, b, c, formerId: (await status(active)).tabId }
}

/** Every write resolved, and the table holds the effect of each exactly once. */
async function expectExactlyOnce(
  page: Page,
  writer: string,
  outcomes: Array<{ i: number; ok: boolean; error?: string; rows?: unknown[] }>,
) {
  expect(outcomes.filter((o) => !o.ok)).toEqual([])
  expect(outcomes).toHaveLength(WRITES)
  const rows = await query<{ k: string; n: number }>(page, 'select k, n from t where k like ? order by id', [`%${writer}-%`])
  const byKey = new Map(rows.map((r) => [r.k, r.n]))
  for (let i = 0; i < WRITES; i++) {
    const key = `${writer}-${i}`
    switch (i % 5) {
      case 0: // inserted once, then updated once by statement i + 3 (if there was one)
        expect(byKey.get(key), key).toBe(i + 3 < WRITES ? 100 : 0)
        break
      case 1: // an upsert of a new key: inserted, never updated (a second run would make it 2)
        expect(byKey.get(key), key).toBe(1)
        break
      case 2:
        expect(byKey.get(key), key).toBe(2)
        expect(outcomes[i]!.rows, key).toEqual([{ k: key }]) // RETURNING rows, from the ledger on a retry
        break
      case 4:
        expect(byKey.has(`seed-${key}`), `seed-${key}`).toBe(false)
        break
    }
  }
  expect(rows.length).toBe(new Set(rows.map((r) => r.k)).size)
}

for (const how of ['close', 'crash', 'hang'] as const) {
  test(`raw writes from two followers across the active tab's ${how}: each resolves and is applied exactly once`, async ({
    context,
  }) => {
    const { active, b, c, formerId } = await setUp(context)
    await startWriter(b, 'b')
    await startWriter(c, 'c')
    await b.waitForFunction(() => (window as any).rawOutcomes.length >= 6)
    if (how === 'close') await active.close()
    else if (how === 'crash') await crashTab(context, active)
    else await stallTabWorker(active, 6000)
    await waitForNewActive(b, formerId, 30_000)
    for (const page of [b, c]) await page.evaluate(() => (window as any).rawDone)
    for (const [page, w] of [
      [b, 'b'],
      [c, 'c'],
    ] as const)
      await expectExactlyOnce(c, w, await page.evaluate(() => (window as any).rawOutcomes))
    expect(await query(b, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
  })
}

test('a raw statement that cannot be recorded (a script) caught by a failover is still reported as of unknown outcome, and a raw read is resent', async ({
  context,
}) => {
  const { active, b, formerId } = await setUp(context)
  await stallTabWorker(active, 6000)
  const outcomes = b.evaluate(async () => {
    const { CompiledQuery } = window.harness
    const run = (s: string) =>
      window.db.executeQuery(CompiledQuery.raw(s)).then(
        (r: any) => ({ ok: true, rows: r.rows }),
        (e: any) => ({ ok: false, error: e.name }),
      )
    return Promise.all([
      run("insert into t (k, n) values ('script-1', 0); insert into t (k, n) values ('script-2', 0)"),
      run('with x(v) as (select 7) select v from x'),
      run('pragma table_info(t)'),
    ])
  })
  await waitForNewActive(b, formerId, 30_000)
  const [script, read, pragma] = await outcomes
  expect(script).toEqual({ ok: false, error: 'WriteOutcomeUnknownError' })
  expect(read).toEqual({ ok: true, rows: [{ v: 7 }] })
  expect(pragma).toMatchObject({ ok: true })
  expect(await tryQuery(b, "select count(*) as n from t where k like 'script-%'")).toMatchObject({ ok: true })
})
