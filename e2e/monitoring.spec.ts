import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { activeTab, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'

test('events in every tab on a hand-off; metrics and health from any tab reflect every tab’s work', async ({ context }) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(tabs[0]!, 'create table t (v)')
  for (const [i, tab] of tabs.entries()) await query(tab, 'insert into t values (?)', [i])
  const active = await activeTab(tabs)
  const others = tabs.filter((t) => t !== active)
  const former = (await status(active)).tabId

  // Database-wide metrics, read from a follower, count statements sent by all tabs.
  const before = await others[0]!.evaluate(() => window.dialect.databaseMetrics())
  await others[1]!.evaluate(async () => {
    for (let i = 0; i < 10; i++) await window.db.insertInto('t').values({ v: i }).execute()
  })
  const after = await others[0]!.evaluate(() => window.dialect.databaseMetrics())
  expect(after.statements - before.statements).toBeGreaterThanOrEqual(10)
  expect(after.storage.quota).toBeGreaterThan(0)

  const health = await others[1]!.evaluate(() => window.dialect.health())
  expect(health).toMatchObject({ role: 'follower', activeTabId: former, coordinator: 'shared-worker', storage: 'opfs-sahpool' })
  expect(health.tabs).toHaveLength(3)
  expect(health.database.quickCheck).toBe('ok')
  expect(health.roundTripMs).toBeGreaterThan(0)
  expect(health.sinceHeartbeatMs).toBeLessThan(5000)

  await active.close()
  await waitForNewActive(others[0]!, former)
  for (const tab of others) {
    await expect
      .poll(() => tab.evaluate(() => window.events.map((e) => `${e.type}:${e.reason}`)))
      .toEqual(expect.arrayContaining(['active-lost:closed', 'active-changed:closed']))
    const changed = await tab.evaluate(() => window.events.filter((e) => e.type === 'active-changed').at(-1))
    expect(changed!.handoffMs).toBeGreaterThan(0)
    const m = await tab.evaluate(() => window.dialect.metrics())
    expect(m.handoffs.count).toBe(1)
  }
  // Errors are events too.
  await others[0]!.evaluate(() => {
    ;(window as any).errors = []
    window.dialect.on('error', (e: any) => (window as any).errors.push(`${e.name}:${e.retryable}`))
  })
  await tryQuery(others[0]!, 'select * from missing')
  expect(await others[0]!.evaluate(() => (window as any).errors)).toEqual(['SqliteError:false'])
})

test('database metrics count a statement that waited for another tab’s transaction, and how long', async ({ context }) => {
  const file = uniqueFilename()
  const [holder, waiter] = [await openTab(context, file), await openTab(context, file)]
  await query(holder, 'create table w (v)')
  const before = await waiter.evaluate(() => window.dialect.databaseMetrics())
  const held = holder.evaluate(() =>
    window.db.transaction().execute(async (trx: any) => {
      await trx.insertInto('w').values({ v: 1 }).execute()
      ;(window as any).holding = true
      await new Promise((resolve) => setTimeout(resolve, 400))
    }),
  )
  await expect.poll(() => holder.evaluate(() => (window as any).holding === true)).toBe(true)
  await query(waiter, 'insert into w values (2)')
  await held
  const after = await waiter.evaluate(() => window.dialect.databaseMetrics())
  expect(after.leaseWaits - before.leaseWaits).toBe(1)
  expect(after.leaseWaitMs - before.leaseWaitMs).toBeGreaterThan(100)
  expect(after.leaseWaitMs - before.leaseWaitMs).toBeLessThan(5000)
})

async function exportFrom(page: Page): Promise<Buffer> {
  const bytes: number[] = await page.evaluate(async () => Array.from((await window.dialect.exportDatabase()) as Uint8Array))
  return Buffer.from(bytes)
}

test('export gives an SQLite file the sqlite3 CLI opens; import from one tab is seen by another; delete empties it', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table person (id integer primary key autoincrement, name text)')
  await query(a, 'create index person_name on person (name)')
  await query(b, "insert into person (name) values ('Ada'), ('Grace')")
  await query(a, 'pragma user_version = 7')

  const exported = await exportFrom(b)
  const dir = await mkdtemp(join(tmpdir(), 'kysely-multitab-export-'))
  try {
    const path = join(dir, 'backup.db')
    await writeFile(path, exported)
    const cli = (sql: string) => execFileSync('sqlite3', [path, sql], { encoding: 'utf8' }).trim()
    expect(cli('select name from person order by id')).toBe('Ada\nGrace')
    expect(cli('pragma integrity_check')).toBe('ok')
    expect(cli('pragma user_version')).toBe('7')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  // Change the data, then import the backup from B: C sees the backup's content.
  await query(c, "insert into person (name) values ('Linus')")
  await query(c, 'create table extra (x)')
  await b.evaluate(async (bytes) => window.dialect.importDatabase(new Uint8Array(bytes)), Array.from(exported))
  expect(await query(c, 'select name from person order by id')).toEqual([{ name: 'Ada' }, { name: 'Grace' }])
  // (The library's own bookkeeping table is there from the start, hidden from Kysely's introspector.)
  expect(
    await query(
      c,
      "select name from sqlite_master where type in ('table', 'index') and name not like 'sqlite_%' and tbl_name != '_kysely_multitab_ops' order by name",
    ),
  ).toEqual([{ name: 'person' }, { name: 'person_name' }])
  expect(await query(c, 'pragma user_version')).toEqual([{ user_version: 7 }])
  await query(c, "insert into person (name) values ('Barbara')")
  expect(await query(a, "select id from person where name = 'Barbara'")).toEqual([{ id: 3 }]) // autoincrement kept

  // A file that is not a database is refused, with a typed error, and nothing changes.
  const refused = await b.evaluate(async () => {
    try {
      await window.dialect.importDatabase(new TextEncoder().encode('definitely not a database'.repeat(40)))
      return 'imported?'
    } catch (e: any) {
      return `${e.name}:${e.code}`
    }
  })
  expect(refused).toBe('SqliteError:SQLITE_NOTADB')
  expect(await query(a, 'select count(*) as n from person')).toEqual([{ n: 3 }])

  // Delete empties the database for every tab.
  await c.evaluate(() => window.dialect.deleteDatabase())
  expect(
    await query(
      a,
      "select count(*) as n from sqlite_master where name not like 'sqlite_%' and tbl_name != '_kysely_multitab_ops'",
    ),
  ).toEqual([{ n: 0 }])
  await query(b, 'create table fresh (x)')
  expect(await query(a, 'select count(*) as n from fresh')).toEqual([{ n: 0 }])
})

test('quota exhausted: a typed permanent SQLITE_FULL, no corruption, and the database works afterwards', async ({
  context,
  baseURL,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table big (b blob)')
  await query(b, "insert into big values (x'00')")
  const cdp = await context.newCDPSession(a)
  const origin = new URL(baseURL!).origin
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 8 * 1024 * 1024 })
  const full = await b.evaluate(async () => {
    try {
      for (let i = 0; i < 20; i++)
        await window.db
          .insertInto('big')
          .values({ b: new Uint8Array(2 * 1024 * 1024) })
          .execute()
      return 'no error'
    } catch (e: any) {
      return { name: e.name, code: e.code, retryable: e.retryable, storage: e.isStorageFailure }
    }
  })
  await cdp.send('Storage.overrideQuotaForOrigin', { origin })
  expect(full).toEqual({ name: 'SqliteError', code: 'SQLITE_FULL', retryable: false, storage: true })
  expect(await query(a, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
  await query(b, "insert into big values (x'01')")
  expect((await query<{ n: number }>(a, 'select count(*) as n from big'))[0]!.n).toBeGreaterThanOrEqual(2)
})

test('a corrupt database file is reported at open as a typed permanent error, never a hang or an empty database', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  await query(a, 'create table t (v)')
  await query(a, "insert into t values ('data')")
  await a.close()
  // Overwrite the start of the database file with garbage while no tab holds it.
  const probe = await context.newPage()
  await probe.goto('/e2e/pages/harness.html')
  const damaged = await probe.evaluate(async (name) => {
    const source = `
      onmessage = async (e) => {
        let dir = await navigator.storage.getDirectory()
        for (const part of e.data.dir.split('/')) dir = await dir.getDirectoryHandle(part)
        let done = 0
        for await (const [, handle] of dir) {
          const h = await handle.createSyncAccessHandle()
          const header = new Uint8Array(512)
          h.read(header, { at: 0 })
          const path = new TextDecoder().decode(header.subarray(0, header.indexOf(0)))
          if (path === '/' + e.data.name) { h.write(new TextEncoder().encode('garbage, not a database file at all'.repeat(3)), { at: 4096 }); h.flush(); done++ }
          h.close()
        }
        postMessage(done)
      }`
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })))
    const done = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data)
      worker.postMessage({ dir: `kysely-multitab/${name}`, name })
    })
    worker.terminate()
    return done
  }, file)
  expect(damaged).toBe(1)
  const b = await openTab(context, file, { requestTimeoutMs: 20_000 })
  const result = await tryQuery(b, 'select * from t')
  expect(result).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_NOTADB', retryable: false } })
})

test('import refuses a file with virtual tables (this SQLite has no FTS5 or R*Tree), naming them, and changes nothing', async ({
  context,
}) => {
  // Made with the sqlite3 CLI: notes, an FTS5 table over it, an R*Tree, and boxes_log.
  const fixture = readFileSync(new URL('./fixtures/with-virtual-tables.db', import.meta.url))
  const tab = await openTab(context, uniqueFilename())
  await query(tab, 'create table old (v)')
  await query(tab, "insert into old values ('kept')")
  const outcome = await tab.evaluate(
    (bytes) =>
      window.dialect.importDatabase(new Uint8Array(bytes)).then(
        () => 'imported',
        (e: any) => window.harness.describe(e),
      ),
    Array.from(fixture),
  )
  expect(outcome).toMatchObject({ name: 'SqliteError', code: 'SQLITE_ERROR', retryable: false })
  expect(outcome.message).toContain('notes_fts (fts5), boxes (rtree)')
  expect(await query(tab, 'select v from old')).toEqual([{ v: 'kept' }])
  const tables = await query<{ name: string }>(tab, "select name from sqlite_master where type = 'table' order by name")
  expect(tables.map((t) => t.name).filter((n) => n !== '_kysely_multitab_ops')).toEqual(['old'])
})
