// A tab whose SQLite cannot load (a wrong `wasmUrl`, a deploy that lost the file): its queries fail
// with a typed error instead of hanging, and a tab that can load SQLite takes the role and serves
// every tab, on the same files (the failed tab must have let the OPFS access handles go).
import { expect, test } from '@playwright/test'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

test('a tab whose wasm cannot load fails with a typed error, then a tab that can serves every tab', async ({ context }) => {
  const file = uniqueFilename('asset')
  const broken = await openTab(context, file, { wasmUrl: '/e2e/pages/missing/wa-sqlite.wasm' })

  const failed = await tryQuery(broken, 'select 1 as one')
  expect(failed.ok).toBe(false)
  if (failed.ok) return
  expect(failed.error).toMatchObject({ name: 'StorageUnavailableError', isMultiTabError: true, retryable: false })
  // It names the URL and what went wrong, not what the 404 page did to the wasm compiler.
  expect(failed.error.message).toContain('/e2e/pages/missing/wa-sqlite.wasm: HTTP 404')

  // A second tab, with the wasm where it is: elected in place of the broken one.
  const working = await openTab(context, file)
  await query(working, 'create table t (id integer primary key, who text)')
  await query(working, "insert into t (who) values ('working')")
  expect((await status(working)).role).toBe('active')
  // The broken tab now reaches the database through the working tab (once its route arrives).
  const workingId = (await status(working)).tabId
  await expect.poll(async () => (await status(broken)).activeTabId).toBe(workingId)
  await query(broken, "insert into t (who) values ('broken')")
  expect(await query(broken, 'select who from t order by id')).toEqual([{ who: 'working' }, { who: 'broken' }])
  expect((await status(broken)).role).toBe('follower')
})

test("the storage fallbacks' wasm (wa-sqlite-async.wasm, next to wasmUrl) failing is named as clearly", async ({ context }) => {
  // No sync access handles in the worker: auto picks the 'opfs' fallback, on the Asyncify build.
  const tab = await openTab(context, uniqueFilename('asset'), {
    workerUrl: '/e2e/pages/workers/no-sync-handles.js',
    wasmUrl: '/e2e/pages/missing/wa-sqlite.wasm',
  })
  const failed = await tryQuery(tab, 'select 1 as one')
  expect(failed.ok).toBe(false)
  if (failed.ok) return
  expect(failed.error).toMatchObject({ name: 'StorageUnavailableError', retryable: false })
  expect(failed.error.message).toContain('/e2e/pages/missing/wa-sqlite-async.wasm: HTTP 404')
})

test('when the tab elected first cannot load the wasm, an open tab that can is elected, and queries sent meanwhile are served', async ({
  context,
  baseURL,
}) => {
  const file = uniqueFilename('asset')
  // The server holds the broken tab's wasm request until the second tab is open (then a 404), so
  // the failure meets a tab that can serve.
  const key = file.replace(/\W/g, '-')
  const broken = await openTab(context, file, { wasmUrl: `/e2e/held/${key}/wa-sqlite.wasm` })
  // Its first query starts it: elected (alone), its worker then waits for the wasm.
  const first = tryQuery(broken, 'select 1 as one')
  await expect.poll(async () => (await fetch(`${baseURL}/e2e/waiting/${key}`)).text()).toBe('1')
  const working = await openTab(context, file)
  const meanwhile = [first, tryQuery(working, 'select 2 as two')]
  // The second tab has joined (a dialect starts with its first query) before the 404 comes.
  await expect.poll(async () => (await status(working)).tabs.length).toBe(2)
  expect(await (await fetch(`${baseURL}/e2e/release/${key}`)).text()).toBe('released 1')
  expect(await Promise.all(meanwhile)).toMatchObject([
    { ok: true, rows: [{ one: 1 }] },
    { ok: true, rows: [{ two: 2 }] },
  ])
  expect((await status(working)).role).toBe('active')
  expect((await status(broken)).activeTabId).toBe((await status(working)).tabId)
})

test('a tab whose worker script cannot load: queries fail with a typed error, status() answers closed', async ({ context }) => {
  const tab = await openTab(context, uniqueFilename('asset'), { workerUrl: '/e2e/pages/missing/tab-worker.js' })
  const failed = await tryQuery(tab, 'select 1 as one')
  expect(failed.ok).toBe(false)
  if (failed.ok) return
  expect(failed.error).toMatchObject({ name: 'StorageUnavailableError', retryable: false })
  // It used to wait for ever on the worker that never started.
  expect(await status(tab)).toMatchObject({ role: 'closed', worker: { active: false, openCount: 0 } })
  await tab.evaluate(() => window.db.destroy())
  expect((await status(tab)).role).toBe('closed')
})

test('a tab that stepped down is elected again when the only other tab cannot load SQLite', async ({ context }) => {
  const file = uniqueFilename('asset')
  const t = await openTab(context, file)
  await query(t, 'create table t (v text)')
  const u = await openTab(context, file, { wasmUrl: '/e2e/pages/missing/wa-sqlite.wasm' })
  await query(u, "insert into t values ('u via t')")
  const tId = (await status(t)).tabId
  // U is elected, fails (for good), and T, which only stepped down, takes the role back rather
  // than every tab being told that no tab can serve.
  expect(await t.evaluate(() => window.dialect.stepDown())).toBe(tId)
  await query(u, "insert into t values ('u again')")
  expect(await query(t, 'select v from t')).toEqual([{ v: 'u via t' }, { v: 'u again' }])
  expect((await status(t)).role).toBe('active')
})
