// Storage fallbacks (issue 4): each exercised with several tabs by removing the browser API from
// the tab workers before they load (a wrapper worker script, e2e/pages/workers/).
import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { activeTab, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

const cases = [
  { storage: 'opfs', worker: '/e2e/pages/workers/no-sync-handles.js', persists: true },
  { storage: 'idb', worker: '/e2e/pages/workers/no-opfs.js', persists: true },
  { storage: 'memory', worker: '/e2e/pages/workers/no-storage.js', persists: false },
] as const

async function openTabs(context: BrowserContext, file: string, workerUrl: string, n: number): Promise<Page[]> {
  const tabs: Page[] = []
  for (let i = 0; i < n; i++) tabs.push(await openTab(context, file, { workerUrl }))
  return tabs
}

for (const { storage, worker, persists } of cases) {
  test(`auto falls back to '${storage}': three tabs share it, every tab is told, and a hand-off ${persists ? 'keeps' : 'loses (degraded)'} the data`, async ({
    context,
  }) => {
    const file = uniqueFilename(storage)
    const tabs = await openTabs(context, file, worker, 3)
    await query(tabs[0]!, 'create table t (id integer primary key, v text)')
    await query(tabs[0]!, 'create index t_v on t (v)')
    for (const [i, tab] of tabs.entries()) {
      await tab.evaluate(async (n) => {
        await window.db.transaction().execute(async (trx: any) => {
          for (let k = 0; k < 50; k++)
            await trx
              .insertInto('t')
              .values({ v: `tab ${n} row ${k}` })
              .execute()
        })
      }, i)
    }
    for (const tab of tabs) expect(await query(tab, 'select count(*) as n from t')).toEqual([{ n: 150 }])
    expect(await query(tabs[1]!, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
    for (const tab of tabs) {
      const s = await status(tab)
      expect(s.storage).toBe(storage)
      expect((s as any).degraded).toBe(!persists)
      const fallback = await tab.evaluate(() => window.events.filter((e) => e.type === 'fallback'))
      expect(fallback).toEqual([expect.objectContaining({ what: 'storage', chosen: storage, degraded: !persists })])
    }
    // Hand-off: the active tab closes.
    const first = await activeTab(tabs)
    const former = (await status(first)).tabId
    const rest = tabs.filter((t) => t !== first)
    await first.close()
    await waitForNewActive(rest[0]!, former)
    if (persists) {
      expect(await query(rest[1]!, 'select count(*) as n from t')).toEqual([{ n: 150 }])
      await query(rest[0]!, "insert into t (v) values ('after')")
      expect(await query(rest[1]!, 'select count(*) as n from t')).toEqual([{ n: 151 }])
    } else {
      // In memory the data lived in the closed tab's worker: the new active tab starts empty.
      const gone = await tryQuery(rest[1]!, 'select count(*) as n from t')
      expect(gone.ok).toBe(false)
      expect(gone.ok ? undefined : gone.error.code).toBe('SQLITE_ERROR')
    }
  })
}

test("'opfs' and 'idb' persist when every tab is closed", async ({ browser }) => {
  for (const { storage, worker } of cases.filter((c) => c.persists)) {
    // One context (one OPFS and IndexedDB) for both lives of the database.
    const context = await browser.newContext()
    const file = uniqueFilename(`${storage}-persist`)
    const [a, b] = await openTabs(context, file, worker, 2)
    await query(a!, 'create table t (v integer)')
    await query(b!, 'insert into t values (41), (42)')
    await a!.close()
    await b!.close()
    const [c] = await openTabs(context, file, worker, 1)
    expect(await query(c!, 'select v from t order by v')).toEqual([{ v: 41 }, { v: 42 }])
    expect((await status(c!)).storage).toBe(storage)
    await context.close()
  }
})

test('a forced storage the browser lacks fails with StorageUnavailableError; a forced fallback works without the event', async ({
  context,
}) => {
  const file = uniqueFilename('forced')
  const lacking = await openTab(context, file, {
    workerUrl: '/e2e/pages/workers/no-sync-handles.js',
    storage: 'opfs-sahpool',
    requestTimeoutMs: 5000,
  })
  const result = await tryQuery(lacking, 'select 1')
  expect(result.ok).toBe(false)
  expect(result.ok ? undefined : result.error).toMatchObject({ name: 'StorageUnavailableError', retryable: false })
  expect(result.ok ? '' : result.error.message).toContain('createSyncAccessHandle')
  await lacking.close()

  const other = uniqueFilename('forced-idb')
  const a = await openTab(context, other, { storage: 'idb' })
  const b = await openTab(context, other, { storage: 'idb' })
  await query(a, 'create table t (v integer)')
  await query(b, 'insert into t values (1)')
  expect(await query(a, 'select v from t')).toEqual([{ v: 1 }])
  expect((await status(b)).storage).toBe('idb')
  expect(await b.evaluate(() => window.events.filter((e) => e.type === 'fallback'))).toEqual([])
})

test("whole-file tools on the fallbacks: 'opfs' exports and imports across tabs; 'idb' refuses with a typed error and keeps the data", async ({
  context,
}) => {
  // 'opfs': export from one database, import into another from a different tab, read in a third.
  const source = uniqueFilename('opfs-src')
  const [s] = await openTabs(context, source, cases[0].worker, 1)
  await query(s!, 'create table t (v text)')
  await query(s!, "insert into t values ('exported')")
  const target = uniqueFilename('opfs-dst')
  const [b, c] = await openTabs(context, target, cases[0].worker, 2)
  await query(b!, 'create table old (x)')
  const imported = await b!.evaluate(async (sourceFile) => {
    const other = new window.harness.lib.MultiTabOpfsDialect({
      filename: sourceFile,
      workerUrl: '/e2e/pages/workers/no-sync-handles.js',
    })
    const { Kysely } = await import('kysely')
    const db = new Kysely({ dialect: other })
    const bytes = await other.exportDatabase()
    await db.destroy()
    await window.dialect.importDatabase(bytes)
    return bytes.byteLength
  }, source)
  expect(imported).toBeGreaterThan(0)
  expect(await query(c!, 'select v from t')).toEqual([{ v: 'exported' }])
  expect((await tryQuery(c!, 'select * from old')).ok).toBe(false)
  expect((await status(c!)).storage).toBe('opfs')

  // 'idb': import is refused before anything is touched.
  const idb = uniqueFilename('idb-tools')
  const [d] = await openTabs(context, idb, cases[1].worker, 1)
  await query(d!, 'create table keep (v integer)')
  await query(d!, 'insert into keep values (7)')
  const bytes = await s!.evaluate(() => window.dialect.exportDatabase())
  const refused = await d!.evaluate(
    async (file) => {
      try {
        await window.dialect.importDatabase(new Uint8Array(file))
        return undefined
      } catch (error) {
        return window.harness.describe(error)
      }
    },
    Array.from(bytes as Uint8Array),
  )
  expect(refused).toMatchObject({ name: 'StorageUnavailableError', retryable: false })
  expect(await query(d!, 'select v from keep')).toEqual([{ v: 7 }])
})

for (const { storage, worker } of cases.filter((c) => c.persists)) {
  test(`'${storage}': the active tab destroyed while another tab's long write is suspended in the middle of I/O; nothing breaks, the write applies once`, async ({
    context,
  }) => {
    test.setTimeout(90_000)
    const file = uniqueFilename(`${storage}-destroy`)
    const tabs = await openTabs(context, file, worker, 2)
    // A module re-entered while suspended faults ("memory access out of bounds"): none may.
    const faults: string[] = []
    for (const tab of tabs) tab.on('pageerror', (error) => faults.push(error.message))
    await query(tabs[0]!, 'create table big (id integer primary key, v text)')
    const active = await activeTab(tabs)
    const writer = tabs.find((t) => t !== active)!
    const former = (await status(active)).tabId
    // A write that takes a while on the Asyncify build: its VFS calls suspend the module.
    const write = writer.evaluate(async () => {
      const { sql } = window.harness
      const t0 = performance.now()
      try {
        await sql`insert into big (v) with recursive n(x) as (select 1 union all select x + 1 from n where x < 150000) select printf('%0200d', x) from n`.execute(
          window.db,
        )
        return { ok: true, ms: performance.now() - t0 }
      } catch (error: any) {
        return { ok: false, error: `${error.name}: ${error.message}`, ms: performance.now() - t0 }
      }
    })
    // Destroyed while that statement runs (it takes seconds: the destroy lands in its middle).
    await new Promise((resolve) => setTimeout(resolve, 300))
    await active.evaluate(() => window.db.destroy())
    const outcome = await write
    await waitForNewActive(writer, former, 30_000)
    // Applied once (a builder-less raw write: exactly once, or an honest unknown outcome).
    const [{ n }] = await query<{ n: number }>(writer, 'select count(*) as n from big')
    if (outcome.ok) expect(n).toBe(150000)
    else expect([0, 150000]).toContain(n)
    expect(await query(writer, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
    await query(writer, "insert into big (v) values ('after')")
    expect(faults).toEqual([])
    console.log(`'${storage}' destroy mid-write: ${JSON.stringify(outcome)}, rows ${n}`)
  })
}

test("auto falls back when a storage is offered but refused when opened (sync access handles that throw NotSupportedError, as in WebKitGTK): 'opfs', and every tab is told why", async ({
  context,
}) => {
  const file = uniqueFilename('refused')
  const tabs = await openTabs(context, file, '/e2e/pages/workers/refused-sync-handles.js', 2)
  await query(tabs[0]!, 'create table t (v text)')
  await query(tabs[1]!, "insert into t values ('from the second tab')")
  expect(await query(tabs[0]!, 'select v from t')).toEqual([{ v: 'from the second tab' }])
  for (const tab of tabs) {
    expect((await status(tab)).storage).toBe('opfs')
    const fallback = await tab.evaluate(() => window.events.filter((e) => e.type === 'fallback'))
    expect(fallback).toEqual([
      expect.objectContaining({
        what: 'storage',
        chosen: 'opfs',
        reason: expect.stringContaining('failed to open (NotSupportedError'),
      }),
    ])
  }
})
