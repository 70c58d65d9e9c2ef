import { expect, test, type Page } from '@playwright/test'
import { activeTab, waitForNewActive } from './support/failover.js'
import { openTab, query, status, uniqueFilename } from './support/tabs.js'

/** Counts the wasm files each tab (page or its workers) fetches. */
function wasmCounter() {
  const counts = new Map<Page, number>()
  const count = async (page: Page) => {
    counts.set(page, 0)
    page.on('request', (request) => {
      if (request.url().endsWith('.wasm')) counts.set(page, (counts.get(page) ?? 0) + 1)
    })
  }
  return { count, of: (page: Page) => counts.get(page) ?? 0 }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

test('warm standby: only the tab next in line loads SQLite ahead; a failover to it loads nothing more, and the next one warms up', async ({
  context,
}) => {
  const file = uniqueFilename()
  const wasm = wasmCounter()
  const options = { warmStandby: true }
  const a = await openTab(context, file, options, wasm.count)
  await query(a, 'create table t (v text)')
  // Each tab answers a query before the next opens: they join, and line up, in this order.
  const b = await openTab(context, file, options, wasm.count)
  await query(b, "insert into t values ('before')")
  const c = await openTab(context, file, options, wasm.count)
  await query(c, 'select 1')
  expect(await activeTab([a, b, c])).toBe(a) // the oldest
  // b is next in line: it fetches the wasm and rehearses SQLite; c, further back, loads nothing.
  await until('the standby fetched the wasm', () => wasm.of(b) === 1)
  await new Promise((r) => setTimeout(r, 500))
  expect(wasm.of(c)).toBe(0)
  expect((await status(b)).worker.openCount).toBe(0) // warm, but it never opened the database

  const former = (await status(a)).tabId
  await a.close()
  const next = await waitForNewActive(c, former)
  expect(next).toBe((await status(b)).tabId)
  expect(await query(c, 'select v from t')).toEqual([{ v: 'before' }])
  await query(c, "insert into t values ('after')")
  expect(await query(b, 'select v from t order by rowid')).toEqual([{ v: 'before' }, { v: 'after' }])
  expect(wasm.of(b)).toBe(1) // the failover used what the standby had loaded
  // c is next in line now.
  await until('the new standby fetched the wasm', () => wasm.of(c) === 1)
})

test('without warmStandby (the default), a follower loads no wasm, before or after a failover it is not elected in', async ({
  context,
}) => {
  const file = uniqueFilename()
  const wasm = wasmCounter()
  const a = await openTab(context, file, {}, wasm.count)
  await query(a, 'create table t (v text)')
  const b = await openTab(context, file, {}, wasm.count)
  await query(b, 'select 1')
  const c = await openTab(context, file, {}, wasm.count)
  await query(c, "insert into t values ('x')")
  expect(wasm.of(a)).toBe(1)
  const former = (await status(a)).tabId
  await a.close()
  await waitForNewActive(c, former)
  expect(await query(c, 'select v from t')).toEqual([{ v: 'x' }])
  await new Promise((r) => setTimeout(r, 500))
  expect(wasm.of(b)).toBe(1) // elected: it loads the wasm now
  expect(wasm.of(c)).toBe(0)
})
