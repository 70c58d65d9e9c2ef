// A query's own time limit (StatementTimeoutPlugin), shorter or longer than the dialect's
// statementTimeoutMs, for builder queries and raw SQL alike. Runs on both Kysely lines: the limit
// reaches the driver through the query id Kysely gives plugins and compiled queries.
import { expect, test } from '@playwright/test'
import { activeTab, countTo, rowsForMs } from './support/failover.js'
import { handoffCount, openTab, query, status, uniqueFilename } from './support/tabs.js'

const STATEMENT_TIMEOUT_MS = 1500

test("StatementTimeoutPlugin: a query's own limit applies, shorter or longer than statementTimeoutMs; other queries keep the dialect's", async ({
  context,
}) => {
  const file = uniqueFilename('limit')
  const options = { statementTimeoutMs: STATEMENT_TIMEOUT_MS, hangTimeoutMs: 1000 }
  const tabs = [await openTab(context, file, options), await openTab(context, file, options)]
  await query(tabs[0]!, 'create table t (id integer primary key, v integer)')
  for (const tab of tabs) await query(tab, 'select 1')
  const active = await activeTab(tabs)
  const follower = tabs.find((t) => t !== active)!
  const activeTabId = (await status(active)).tabId
  const before = await handoffCount(follower)
  // About four times the dialect's limit (asserted only to be above it): a calibration that comes
  // out slow still leaves it above.
  const rows = await rowsForMs(follower, STATEMENT_TIMEOUT_MS * 4)
  const outcomes = await follower.evaluate(
    async ([long, runaway]) => {
      const { lib, sql } = window.harness
      const quick = window.db.withPlugin(new lib.StatementTimeoutPlugin(300))
      const patient = window.db.withPlugin(new lib.StatementTimeoutPlugin(60_000))
      const timed = async (run: () => Promise<unknown>) => {
        const t0 = performance.now()
        try {
          const result: any = await run()
          return { ok: true, rows: result.rows ?? result, ms: performance.now() - t0 }
        } catch (e) {
          return { ok: false, error: window.harness.describe(e), ms: performance.now() - t0 }
        }
      }
      return {
        quickRaw: await timed(() => sql.raw(runaway).execute(quick)),
        quickBuilt: await timed(() =>
          quick
            .withRecursive('c(x)', (db: any) =>
              db
                .selectNoFrom((eb: any) => eb.lit(1).as('x'))
                .unionAll(db.selectFrom('c').select((eb: any) => eb('x', '+', 1).as('x'))),
            )
            .selectFrom('c')
            .select((eb: any) => eb.fn.countAll().as('n'))
            .execute(),
        ),
        patient: await timed(() => sql.raw(long).execute(patient)),
        plain: await timed(() => sql.raw(long).execute(window.db)),
        after: await timed(() =>
          quick
            .selectFrom('t')
            .select((eb: any) => eb.fn.countAll().as('n'))
            .execute(),
        ),
      }
    },
    [countTo(rows), 'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c'] as const,
  )
  const interrupted = (ms: number) => ({
    ok: false,
    error: { name: 'SqliteError', code: 'SQLITE_INTERRUPT', retryable: false, message: expect.stringContaining(`(${ms} ms`) },
  })
  expect(outcomes.quickRaw).toMatchObject(interrupted(300))
  expect(outcomes.quickBuilt).toMatchObject(interrupted(300))
  expect(outcomes.patient).toMatchObject({ ok: true, rows: [{ 'count(*)': rows }] })
  expect(outcomes.patient.ms).toBeGreaterThan(STATEMENT_TIMEOUT_MS)
  expect(outcomes.plain).toMatchObject(interrupted(STATEMENT_TIMEOUT_MS))
  expect(outcomes.after).toMatchObject({ ok: true, rows: [{ n: 0 }] })
  // The long statements kept the role where it was.
  for (const tab of tabs) expect((await status(tab)).activeTabId).toBe(activeTabId)
  expect(await handoffCount(follower)).toBe(before)
})
