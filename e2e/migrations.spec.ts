import { expect, test, type Page } from '@playwright/test'
import { activeTab, waitForNewActive } from './support/failover.js'
import { openTab, projectDialectOptions, query, status, uniqueFilename } from './support/tabs.js'

async function openApp(page: Page, db: string) {
  const coordinator = (projectDialectOptions().coordinator as string | undefined) ?? 'auto'
  await page.goto(`/migrations-example/?db=${db}&coordinator=${coordinator}`)
  await page.waitForFunction(() => (window as any).app !== undefined, undefined, { timeout: 30_000 })
  return page.evaluate(() => {
    const { result } = (window as any).app
    return {
      error: result.error ? { name: result.error.name, message: result.error.message } : undefined,
      ran: (result.results ?? []).map((r: any) => `${r.migrationName}:${r.status}`),
    }
  })
}

test('six tabs opened at once on a fresh database: every migration runs exactly once, all see the final schema', async ({
  context,
}) => {
  const db = uniqueFilename('todo')
  const pages = await Promise.all(Array.from({ length: 6 }, () => context.newPage()))
  const results = await Promise.all(pages.map((page) => openApp(page, db)))
  for (const r of results) expect(r.error).toBeUndefined()
  const ran = results.flatMap((r) => r.ran).sort()
  expect(ran).toEqual(['0001_create_todo:Success', '0002_add_done:Success', '0003_backfill_search:Success'])
  const log = await pages[5]!.evaluate(() =>
    (window as any).app.db.selectFrom('schema_log').select('migration').orderBy('id').execute(),
  )
  expect(log.map((r: any) => r.migration)).toEqual(['0001_create_todo', '0002_add_done', '0003_backfill_search'])
  for (const page of pages) {
    const todos = await page.evaluate(() =>
      (window as any).app.db.selectFrom('todo').select(['title', 'done', 'search']).execute(),
    )
    expect(todos).toEqual([{ title: 'Open this page in a second tab', done: 0, search: 'open this page in a second tab #todo' }])
  }
})

/** Runs Kysely's Migrator in the tab with the migrations built by `source` (a function body). */
function migrate(page: Page, source: string) {
  return page.evaluate(async (body) => {
    const { Migrator, lib, sql } = window.harness
    const migrations = new Function('sql', body)(sql)
    const migrator = new Migrator({ db: window.db, provider: new lib.BrowserMigrationProvider(migrations) })
    const result = await migrator.migrateToLatest()
    return {
      error: result.error
        ? { name: result.error.name, code: result.error.code, message: result.error.message, retryable: result.error.retryable }
        : undefined,
      ran: (result.results ?? []).map((r: any) => `${r.migrationName}:${r.status}`),
    }
  }, source)
}

const good = `return {
  '001_people': { up: async (db) => { await sql\`create table people (id integer primary key, name text)\`.execute(db) } },
  '002_pets': { up: async (db) => {
    await sql\`create table pets (id integer primary key, owner integer)\`.execute(db)
    await sql\`insert into pets (owner) values (1)\`.execute(db)
  } },
}`
const broken = good.replace('insert into pets (owner)', 'insert into pest (owner)')

test('a failing migration rolls back fully, every tab gets the same typed error, and a fixed run succeeds', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const [ra, rb] = await Promise.all([migrate(a, broken), migrate(b, broken)])
  for (const r of [ra, rb]) {
    expect(r.error).toMatchObject({ name: 'SqliteError', code: 'SQLITE_ERROR' })
    expect(r.error!.message).toContain('no such table: pest')
  }
  // Nothing of the run is left: not the failed migration's first table, not the first migration.
  const tables = await query<{ name: string }>(
    a,
    "select name from sqlite_master where type = 'table' and name in ('people', 'pets')",
  )
  expect(tables).toEqual([])
  expect(await query(a, 'select count(*) as n from kysely_migration')).toEqual([{ n: 0 }])

  const fixed = await migrate(b, good)
  expect(fixed).toEqual({ error: undefined, ran: ['001_people:Success', '002_pets:Success'] })
  expect(await migrate(a, good)).toEqual({ error: undefined, ran: [] })
  expect(await query(a, 'select count(*) as n from pets')).toEqual([{ n: 1 }])
})

test('the active tab dies in the middle of a migration: it rolls back, and the next run completes it once', async ({
  context,
}) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file)]
  await query(tabs[0]!, 'select 1')
  const active = await activeTab(tabs)
  const other = tabs.find((t) => t !== active)!
  const slow = good.replace(
    'await sql`insert into pets (owner) values (1)`.execute(db)',
    'window.midMigration = true; await new Promise((r) => setTimeout(r, 60000)); await sql`insert into pets (owner) values (1)`.execute(db)',
  )
  expect(slow).not.toBe(good)
  void migrate(active, slow).catch(() => {})
  await active.waitForFunction(() => (window as any).midMigration === true)
  await active.close()

  const result = await migrate(other, good)
  expect(result).toEqual({ error: undefined, ran: ['001_people:Success', '002_pets:Success'] })
  expect(await query(other, 'select count(*) as n from pets')).toEqual([{ n: 1 }])
  expect(await query(other, 'select name from kysely_migration order by name')).toEqual([
    { name: '001_people' },
    { name: '002_pets' },
  ])
  expect(await query(other, 'select is_locked from kysely_migration_lock')).toEqual([{ is_locked: 0 }])
  expect((await status(other)).role).toBe('active')
})

test('a follower dies in the middle of its migration: its lease is rolled back and another tab migrates', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  await query(a, 'select 1')
  const b = await openTab(context, file)
  const slow = good.replace(
    'await sql`insert into pets (owner) values (1)`.execute(db)',
    'window.midMigration = true; await new Promise((r) => setTimeout(r, 60000))',
  )
  expect(slow).not.toBe(good)
  void migrate(b, slow).catch(() => {})
  await b.waitForFunction(() => (window as any).midMigration === true)
  await b.close()
  expect(await migrate(a, good)).toEqual({ error: undefined, ran: ['001_people:Success', '002_pets:Success'] })
  expect(await query(a, 'select count(*) as n from pets')).toEqual([{ n: 1 }])
})

test('a migration that queries through the outer db waits for itself: it fails after leaseTimeoutMs, saying why, not retryable, and leaves nothing', async ({
  context,
}) => {
  const page = await openTab(context, uniqueFilename(), { leaseTimeoutMs: 1500 })
  const result = await migrate(
    page,
    `return {
    '001_outer': { up: async (db) => {
      await sql\`create table first (v)\`.execute(db)
      await sql\`select 1\`.execute(window.db) // the app's db, not the migration's: waits for the migration
      await sql\`create table second (v)\`.execute(db)
    } },
  }`,
  )
  expect(result.error).toMatchObject({ name: 'LeaseTimeoutError', retryable: false })
  expect(result.error!.message).toContain('not the outer db')
  expect(await query(page, "select name from sqlite_master where name in ('first', 'second')")).toEqual([])
})

test("a follower migrating when the active tab dies gets a retryable error, and the README's loop completes it, each migration once", async ({
  context,
}) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(tabs[0]!, 'select 1')
  const active = await activeTab(tabs)
  const [migrating, other] = tabs.filter((t) => t !== active) as [Page, Page]
  // The migration's transaction lives on the active tab's worker; it pauses there, once.
  const paused = good.replace(
    'await sql`insert into pets (owner) values (1)`.execute(db)',
    'if (!window.pausedOnce) { window.pausedOnce = true; await new Promise((r) => (window.resume = r)) } await sql`insert into pets (owner) values (1)`.execute(db)',
  )
  expect(paused).not.toBe(good)
  const outcome = migrating.evaluate(async (body) => {
    const { Migrator, lib, sql } = window.harness
    const migrator = new Migrator({ db: window.db, provider: new lib.BrowserMigrationProvider(new Function('sql', body)(sql)) })
    // The README's loop: a retryable error means "run them again".
    const failures: string[] = []
    let { error, results } = await migrator.migrateToLatest()
    for (let tries = 1; error instanceof lib.MultiTabError && error.retryable && tries < 3; tries++) {
      failures.push((error as Error).name)
      ;({ error, results } = await migrator.migrateToLatest())
    }
    return {
      error: (error as Error | undefined)?.name,
      ran: (results ?? []).map((r: any) => `${r.migrationName}:${r.status}`),
      failures,
    }
  }, paused)
  await migrating.waitForFunction(() => (window as any).resume !== undefined)
  const former = (await status(active)).tabId
  await active.close()
  await waitForNewActive(other, former)
  await migrating.evaluate(() => (window as any).resume())
  expect(await outcome).toEqual({
    error: undefined,
    ran: ['001_people:Success', '002_pets:Success'],
    failures: ['ActiveTabLostError'],
  })
  expect(await query(other, 'select count(*) as n from pets')).toEqual([{ n: 1 }])
  expect(await query(other, 'select name from kysely_migration order by name')).toEqual([
    { name: '001_people' },
    { name: '002_pets' },
  ])
})
