import { chromium, expect, test } from '@playwright/test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumArgs, chromiumExecutable } from './support/chromium.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'
import { projectDialectOptions } from './support/tabs.js'

test('one tab: typed insert/select/update/delete with insertId and numAffectedRows', async ({ context }) => {
  const tab = await openTab(context, uniqueFilename())
  const result = await tab.evaluate(async () => {
    const db = window.db
    await db.schema
      .createTable('person')
      .addColumn('id', 'integer', (c: any) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c: any) => c.notNull())
      .addColumn('age', 'integer')
      .execute()
    const first = await db.insertInto('person').values({ name: 'Ada', age: 36 }).executeTakeFirst()
    const second = await db.insertInto('person').values({ name: 'Linus', age: 20 }).executeTakeFirst()
    const selected = await db.selectFrom('person').selectAll().orderBy('id').execute()
    const updated = await db.updateTable('person').set({ age: 21 }).where('age', '<', 30).executeTakeFirst()
    const returning = await db.insertInto('person').values({ name: 'Grace', age: 85 }).returning(['id', 'name']).execute()
    const deleted = await db.deleteFrom('person').where('name', '!=', 'Ada').executeTakeFirst()
    const remaining = await db.selectFrom('person').select(['name', 'age']).execute()
    return {
      firstId: String(first.insertId),
      secondId: String(second.insertId),
      selected,
      updated: String(updated.numUpdatedRows),
      returning,
      deleted: String(deleted.numDeletedRows),
      remaining,
    }
  })
  expect(result).toEqual({
    firstId: '1',
    secondId: '2',
    selected: [
      { id: 1, name: 'Ada', age: 36 },
      { id: 2, name: 'Linus', age: 20 },
    ],
    updated: '1',
    returning: [{ id: 3, name: 'Grace' }],
    deleted: '2',
    remaining: [{ name: 'Ada', age: 36 }],
  })
})

test('durations given in fractions of a millisecond work (hangTimeoutMs: 2.2 * 1000)', async ({ context }) => {
  // 2200.0000000000005 used to make the coordinator drop the worker's `activated`: no tab served.
  const tab = await openTab(context, uniqueFilename(), { hangTimeoutMs: 2.2 * 1000, requestTimeoutMs: 8000 })
  expect(await query(tab, 'select 1 as one')).toEqual([{ one: 1 }])
  expect((await status(tab)).role).toBe('active')
})

test('values round-trip: integers (bigint beyond 2^53), reals, text, blobs, empty blob, null', async ({ context }) => {
  const tab = await openTab(context, uniqueFilename())
  const result = await tab.evaluate(async () => {
    const { sql } = window.harness
    const db = window.db
    await sql`create table v (i integer, big integer, r real, t text, b blob, e blob, n text)`.execute(db)
    const big = 2n ** 60n + 7n
    await db
      .insertInto('v')
      .values({ i: 42, big, r: 3.25, t: 'héllo ☃', b: new Uint8Array([0, 1, 255]), e: new Uint8Array(0), n: null })
      .execute()
    const [row] = await db.selectFrom('v').selectAll().execute()
    const [types] = await sql<any>`select typeof(i) i, typeof(big) big, typeof(r) r, typeof(b) b, typeof(e) e, typeof(n) n from v`
      .execute(db)
      .then((r: any) => r.rows)
    const [edge] = await sql<any>`select ${2 ** 40} as safe, ${-(2n ** 63n)} as min, ${Number.MAX_SAFE_INTEGER} as max`
      .execute(db)
      .then((r: any) => r.rows)
    return {
      i: row.i,
      big: typeof row.big === 'bigint' ? row.big.toString() : `not bigint: ${row.big}`,
      r: row.r,
      t: row.t,
      b: Array.from(row.b),
      bIsUint8Array: row.b instanceof Uint8Array,
      e: row.e instanceof Uint8Array ? row.e.length : `not empty blob: ${row.e}`,
      n: row.n,
      types,
      edge: { safe: edge.safe, min: String(edge.min), max: edge.max },
    }
  })
  expect(result).toEqual({
    i: 42,
    big: (2n ** 60n + 7n).toString(),
    r: 3.25,
    t: 'héllo ☃',
    b: [0, 1, 255],
    bIsUint8Array: true,
    e: 0,
    n: null,
    types: { i: 'integer', big: 'integer', r: 'real', b: 'blob', e: 'blob', n: 'null' },
    edge: { safe: 2 ** 40, min: (-(2n ** 63n)).toString(), max: Number.MAX_SAFE_INTEGER },
  })
})

test('three tabs: a row written in any tab is read by the other two', async ({ context }) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(tabs[1]!, 'create table note (id integer primary key, body text)')
  for (const [i, writer] of tabs.entries()) {
    await query(writer, 'insert into note (body) values (?)', [`from tab ${i}`])
    for (const reader of tabs) {
      const rows = await query<{ body: string }>(reader, 'select body from note order by id')
      expect(rows.map((r) => r.body)).toEqual(tabs.slice(0, i + 1).map((_, j) => `from tab ${j}`))
    }
  }
  const roles = await Promise.all(tabs.map(status))
  expect(roles.filter((s) => s.role === 'active')).toHaveLength(1)
  expect(roles.filter((s) => s.role === 'follower')).toHaveLength(2)
  // This project's coordinator is the one in use (auto picks the SharedWorker in Chromium).
  const expected = projectDialectOptions().coordinator ?? 'shared-worker'
  for (const s of roles) expect((s as any).coordinator).toBe(expected)
  // Every tab sees the same roster of open tabs, and has measured its own queries.
  for (const s of roles) expect([...(s as any).tabs].sort()).toEqual(roles.map((r) => r.tabId).sort())
  const metrics = await Promise.all(tabs.map((t) => t.evaluate(() => window.dialect.metrics())))
  for (const [i, m] of metrics.entries()) {
    const side = roles[i]!.role === 'active' ? m.latencyMs.active : m.latencyMs.follower
    expect(side.count).toBeGreaterThanOrEqual(3)
    expect(side.p50).toBeGreaterThan(0)
  }
})

test('a transaction is pinned: another tab writes only after commit, never inside; rollbacks leave no trace', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table log (seq integer primary key autoincrement, who text)')

  // B's transaction awaits between statements; C writes in the middle of it.
  await b.evaluate(() => {
    ;(window as any).txDone = window.db.transaction().execute(async (trx: any) => {
      await trx.insertInto('log').values({ who: 'b1' }).execute()
      ;(window as any).txStarted = true
      await new Promise((r) => setTimeout(r, 400))
      const seenInside = await trx.selectFrom('log').select('who').execute()
      await new Promise((r) => setTimeout(r, 200))
      await trx.insertInto('log').values({ who: 'b2' }).execute()
      return seenInside.map((r: any) => r.who)
    })
  })
  await b.waitForFunction(() => (window as any).txStarted === true)
  const cWrite = c.evaluate(async () => {
    await window.db.insertInto('log').values({ who: 'c1' }).execute()
    return Date.now()
  })
  const seenInside = await b.evaluate(() => (window as any).txDone)
  const bCommitted = await b.evaluate(() => Date.now())
  const cDoneAt = await cWrite
  expect(seenInside).toEqual(['b1'])
  expect(cDoneAt).toBeGreaterThanOrEqual(bCommitted - 50)
  expect((await query(a, 'select who from log order by seq')).map((r) => r.who)).toEqual(['b1', 'b2', 'c1'])

  // A rollback in B leaves no trace, while C's write made during it lands after it.
  await b.evaluate(() => {
    ;(window as any).rolledBack = window.db
      .transaction()
      .execute(async (trx: any) => {
        await trx.insertInto('log').values({ who: 'doomed' }).execute()
        ;(window as any).rollbackStarted = true
        await new Promise((r) => setTimeout(r, 400))
        throw new Error('app failure')
      })
      .then(
        () => 'committed?',
        (error: Error) => error.message,
      )
  })
  await b.waitForFunction(() => (window as any).rollbackStarted === true)
  const cDuringRollback = c.evaluate(() => window.db.insertInto('log').values({ who: 'c2' }).execute())
  expect(await b.evaluate(() => (window as any).rolledBack)).toBe('app failure')
  await cDuringRollback
  expect((await query(c, 'select who from log order by seq')).map((r) => r.who)).toEqual(['b1', 'b2', 'c1', 'c2'])

  // A savepoint rolled back inside a transaction undoes only what came after it.
  const savepoint = await b.evaluate(async () => {
    const trx = await window.db.startTransaction().execute()
    await trx.insertInto('log').values({ who: 'kept' }).execute()
    const sp = await trx.savepoint('sp1').execute()
    await sp.insertInto('log').values({ who: 'undone' }).execute()
    const inside = (await sp.selectFrom('log').select('who').execute()).map((r: any) => r.who)
    const back = await sp.rollbackToSavepoint('sp1').execute()
    await back.commit().execute()
    return inside
  })
  expect(savepoint).toContain('undone')
  expect((await query(a, 'select who from log order by seq')).map((r) => r.who)).toEqual(['b1', 'b2', 'c1', 'c2', 'kept'])
})

test('db.connection() scope is pinned, and streamQuery works from a follower', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table t (id integer primary key, v text)')
  await query(a, "insert into t (v) select 'row ' || value from generate_series(1, 250)").catch(async () => {
    // SQLite 3.44 may lack generate_series: insert with a recursive CTE instead.
    await query(
      a,
      "with recursive n(x) as (select 1 union all select x + 1 from n where x < 250) insert into t (v) select 'row ' || x from n",
    )
  })
  const streamed = await b.evaluate(async () => {
    let count = 0
    let last = ''
    for await (const row of window.db.selectFrom('t').select('v').orderBy('id').stream(40)) {
      count++
      last = row.v
      if (count === 200) break
    }
    // Breaking out early releases the connection: the next query still runs.
    const after = await window.db
      .selectFrom('t')
      .select((eb: any) => eb.fn.countAll().as('n'))
      .executeTakeFirst()
    return { count, last, total: after.n }
  })
  expect(streamed).toEqual({ count: 200, last: 'row 200', total: 250 })

  // A temp table made in a connection scope is visible for the whole scope.
  const scoped = await b.evaluate(async () => {
    const { sql } = window.harness
    return window.db.connection().execute(async (conn: any) => {
      await sql`create temp table scratch (x)`.execute(conn)
      await sql`insert into scratch values (1), (2)`.execute(conn)
      await new Promise((r) => setTimeout(r, 100))
      const { rows } = await sql<any>`select count(*) as n from scratch`.execute(conn)
      await sql`drop table scratch`.execute(conn)
      return rows[0].n
    })
  })
  expect(scoped).toBe(2)
})

test('only the active tab opens the database: no other worker ever opened the OPFS files', async ({ context }) => {
  const file = uniqueFilename()
  const tabs = [await openTab(context, file), await openTab(context, file), await openTab(context, file)]
  await query(tabs[2]!, 'create table t (x)')
  await Promise.all(tabs.map((t, i) => query(t, 'insert into t values (?)', [i])))
  const statuses = await Promise.all(tabs.map(status))
  const holders = statuses.filter((s) => s.worker.openCount > 0)
  expect(holders).toHaveLength(1)
  expect(holders[0]!.worker.active).toBe(true)
  expect(holders[0]!.tabId).toBe(statuses[0]!.activeTabId)
  for (const s of statuses) expect(s.activeTabId).toBe(holders[0]!.tabId)

  // The files are really held: a follower's own worker cannot open any of them.
  const follower = tabs.find((_, i) => statuses[i]!.role === 'follower')!
  const probe = await follower.evaluate(async (filename) => {
    const source = `
      onmessage = async (e) => {
        const root = await navigator.storage.getDirectory()
        let dir = root
        for (const part of e.data.split('/')) dir = await dir.getDirectoryHandle(part)
        const results = []
        for await (const [name, handle] of dir) {
          try { const h = await handle.createSyncAccessHandle(); h.close(); results.push('opened ' + name) }
          catch (err) { results.push(err.name) }
        }
        postMessage(results)
      }`
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })))
    const result = await new Promise<string[]>((resolve) => {
      worker.onmessage = (e) => resolve(e.data)
      worker.postMessage(`kysely-multitab/${filename}`)
    })
    worker.terminate()
    return result
  }, file)
  expect(probe.length).toBeGreaterThan(0)
  expect(new Set(probe)).toEqual(new Set(['NoModificationAllowedError']))
})

test('persistence: data survives closing every tab', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table kept (v text)')
  await query(b, "insert into kept values ('survives')")
  await a.close()
  await b.close()
  const c = await openTab(context, file)
  expect(await query(c, 'select v from kept')).toEqual([{ v: 'survives' }])
})

test('persistence: data survives a browser restart (same profile and origin)', async ({ baseURL }) => {
  const userDataDir = await mkdtemp(join(tmpdir(), 'kysely-multitab-profile-'))
  const file = uniqueFilename()
  const launch = () =>
    chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumExecutable(),
      args: chromiumArgs,
      baseURL,
    })
  try {
    let context = await launch()
    const a = await openTab(context, file)
    const b = await openTab(context, file)
    await query(a, 'create table kept (v text)')
    await query(b, "insert into kept values ('across restarts')")
    await context.close()

    context = await launch()
    const c = await openTab(context, file)
    expect(await query(c, 'select v from kept')).toEqual([{ v: 'across restarts' }])
    expect((await query(c, 'pragma integrity_check'))[0]).toEqual({ integrity_check: 'ok' })
    await context.close()
  } finally {
    await rm(userDataDir, { recursive: true, force: true })
  }
})

test('a constraint violation in a follower rejects with the SQLite code, and its next query works', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const c = await openTab(context, file)
  await query(a, 'create table u (email text unique, n integer not null)')
  await query(a, "insert into u values ('a@example.com', 1)")
  const failed = await c.evaluate(async () => {
    try {
      await window.db.insertInto('u').values({ email: 'a@example.com', n: 2 }).execute()
      return null
    } catch (error) {
      return window.harness.describe(error)
    }
  })
  expect(failed).toMatchObject({
    name: 'SqliteError',
    code: 'SQLITE_CONSTRAINT_UNIQUE',
    resultCode: 2067,
    retryable: false,
    isMultiTabError: true,
  })
  expect(failed!.message).toContain('UNIQUE constraint failed: u.email')
  // The caller's stack is kept after the worker's: it reaches the Kysely call that awaited the query.
  expect(failed!.stack).toContain('InsertQueryBuilder.execute')
  const notNull = await tryQuery(c, 'insert into u (email) values (?)', ['b@example.com'])
  expect(notNull).toMatchObject({ ok: false, error: { code: 'SQLITE_CONSTRAINT_NOTNULL' } })
  expect(await query(c, 'select count(*) as n from u')).toEqual([{ n: 1 }])
  const syntax = await tryQuery(c, 'selec nonsense')
  expect(syntax).toMatchObject({ ok: false, error: { name: 'SqliteError', code: 'SQLITE_ERROR' } })
  expect(await query(c, 'select 1 as ok')).toEqual([{ ok: 1 }])
})

/** Counts, in the page, the statements it posts through each kind of line. */
async function countLines(page: import('@playwright/test').Page): Promise<void> {
  await page.addInitScript(() => {
    const counts: Record<string, number> = { worker: 0, port: 0, channel: 0 }
    ;(window as unknown as { lineCounts: typeof counts }).lineCounts = counts
    for (const [kind, proto] of [
      ['worker', Worker.prototype],
      ['port', MessagePort.prototype],
      ['channel', BroadcastChannel.prototype],
    ] as const) {
      const post = proto.postMessage as (this: unknown, ...args: unknown[]) => void
      proto.postMessage = function (this: unknown, ...args: unknown[]) {
        if ((args[0] as { t?: string })?.t === 'exec') counts[kind]!++
        return post.apply(this, args)
      } as typeof proto.postMessage
    }
  })
}

const lineCounts = (page: import('@playwright/test').Page) =>
  page.evaluate(() => ({ ...(window as unknown as { lineCounts: Record<string, number> }).lineCounts }))

test('the active tab sends its statements to its own worker over the Worker object; a follower over its line', async ({
  context,
}) => {
  const file = uniqueFilename()
  const a = await openTab(context, file, {}, countLines)
  const b = await openTab(context, file, {}, countLines)
  await query(a, 'create table t (v integer)')
  await a.evaluate(() => window.dialect.requestActive())
  for (let i = 0; i < 5; i++) await query(a, `insert into t values (${i})`)
  await query(b, 'select count(*) as n from t')
  // A hand-off to B and back: each time, a new own line.
  await b.evaluate(() => window.dialect.requestActive())
  await query(b, 'insert into t values (10)')
  await query(a, 'insert into t values (11)')
  await a.evaluate(() => window.dialect.requestActive())
  expect((await status(a)).role).toBe('active')
  const before = await lineCounts(a)
  for (let i = 0; i < 5; i++) await query(a, `insert into t values (${20 + i})`)
  const after = await lineCounts(a)
  expect(after.worker - before.worker).toBe(5)
  expect([after.port - before.port, after.channel - before.channel]).toEqual([0, 0])
  // B, a follower, reaches A's worker over its line: a port, or under web-locks a channel.
  expect(await query(b, 'select count(*) as n from t')).toEqual([{ n: 12 }])
  const follower = await lineCounts(b)
  // Its statement while it was active went over its own Worker object; the two as a follower did not.
  expect(follower.worker).toBeGreaterThanOrEqual(1)
  expect(follower.port + follower.channel).toBeGreaterThanOrEqual(2)
})
