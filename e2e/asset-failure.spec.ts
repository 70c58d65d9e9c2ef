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
  // The broken tab now reaches the database through the working tab.
  await query(broken, "insert into t (who) values ('broken')")
  expect(await query(broken, 'select who from t order by id')).toEqual([{ who: 'working' }, { who: 'broken' }])
  expect((await status(broken)).role).toBe('follower')
})
