import { expect, test, type Page } from '@playwright/test'
import { activeTab, waitForNewActive } from './support/failover.js'
import { openTab, query, status, tryQuery, uniqueFilename } from './support/tabs.js'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { installFakeMembers, type FakeMembers } from './support/fake-members.js'

/** Garbage of every shape a stray script could post. */
const GARBAGE = `[
  null, undefined, 0, 'join', [], {}, { t: 'join' }, { t: 'join', v: ${PROTOCOL_VERSION} }, { t: 'leave', v: ${PROTOCOL_VERSION}, tabId: 42 },
  { t: 'exec' }, { t: 'exec', id: -1, lease: 0, sql: 'drop table t', params: [] },
  { t: 'exec', id: 1.5, lease: 1, sql: 'delete from t', params: [] }, { t: 'exec', id: 1, lease: 1, sql: 7, params: [] },
  { t: 'release', leases: 'all' }, { t: 'release', leases: [-1] }, { t: 'subscribe', on: 'yes' },
  { t: 'activate', v: ${PROTOCOL_VERSION}, epoch: 99, steal: true, at: Date.now() }, { t: 'heartbeat', v: ${PROTOCOL_VERSION}, epoch: 'x', seq: 1 },
  { t: 'handoff', v: ${PROTOCOL_VERSION}, tabId: 'nobody', action: 'claim' }, { t: 'route', v: ${PROTOCOL_VERSION} }, { t: 'x'.repeat(100000) },
  { t: 'exec', id: 2, lease: 2, sql: 'select 1', params: [{}] }, { t: 'exec', id: 3, lease: 3, sql: 'select ?', params: [() => 1] },
]`

/** A page script that talks to the coordinator directly, as a stray script or an old release could. */
async function rogue(page: Page, filename: string) {
  await installFakeMembers(page)
  return page.evaluate(
    async ([f, garbageSource, version]) => {
      const garbage = new Function(`return ${garbageSource}`)()
      const name = `kysely-multitab/${f}`
      const shared = new SharedWorker('/dist/coordinator.js', { type: 'module', name })
      const replies: any[] = []
      shared.port.onmessage = (e) => replies.push(e.data)
      shared.port.start()
      for (const message of garbage) {
        try {
          shared.port.postMessage(message)
        } catch {
          // not cloneable: the browser refuses it before it leaves
        }
      }
      // A tab of another release.
      shared.port.postMessage({ t: 'join', v: 999, tabId: 'old-release', tabLock: 'x', workerPort: null })
      // A well-formed join whose "worker" never answers: it becomes a member, and gets a line to the active worker.
      const fakeWorker = new MessageChannel()
      // Any script can make a tab identity of its own: an id that is its secret's hash.
      const members = (window as any).fakeMembers as FakeMembers
      const { tabId, secret } = await members.identity()
      const keepLock = await members.holdLock(name, tabId)
      members.join(shared.port, name, { tabId, secret, workerPort: fakeWorker.port2 })
      let token = ''
      const route = await new Promise<MessagePort | undefined>((resolve) => {
        const started = Date.now()
        const poll = () => {
          const r = replies.find((m) => m?.t === 'route')
          if (r) token = r.token
          if (r) resolve(r.port)
          else if (Date.now() - started > 5000) resolve(undefined)
          else setTimeout(poll, 20)
        }
        poll()
      })
      const answers: any[] = []
      if (route) {
        route.onmessage = (e) => answers.push(e.data)
        // Before the token is shown, the worker serves nothing on the port; a wrong token changes nothing.
        route.postMessage({ t: 'exec', id: 9, lease: 9, sql: 'select 1', params: [] })
        route.postMessage({ t: 'hello', token: 'guessed' })
        route.postMessage({ t: 'exec', id: 8, lease: 8, sql: 'select 1', params: [] })
        route.postMessage({ t: 'hello', token })
        for (const message of garbage) {
          try {
            route.postMessage(message)
          } catch {
            // not cloneable
          }
        }
        // The garbage's one well-formed exec took lease 2: a real tab always releases its leases.
        route.postMessage({ t: 'release', leases: [2] })
        // Valid requests with bad parameters are answered with errors, not crashes.
        route.postMessage({ t: 'exec', id: 10, lease: 10, sql: 'select ?', params: [{ a: 1 }] })
        route.postMessage({ t: 'exec', id: 11, lease: 10, sql: 'select ?, ?', params: [1] })
        route.postMessage({ t: 'release', leases: [10] })
        // Another member's identity: its id is in the roster. Joining as it is refused, and its
        // operation ids cannot be recorded from this line (its writes would then never apply).
        const roster = [...replies].reverse().find((m) => m?.t === 'roster')
        const victim = roster.tabIds.find((id: string) => id !== tabId && id !== 'old-release')
        const hijack = new MessageChannel()
        shared.port.postMessage(
          {
            t: 'join',
            v: version,
            tabId: victim,
            secret: 'guessed',
            tabLock: `${name}:tab:${victim}`,
            workerPort: hijack.port2,
            epoch: 0,
            holder: false,
            hangTimeoutMs: 1000,
            visible: true,
          },
          [hijack.port2],
        )
        for (let n = 1; n <= 5; n++)
          route.postMessage({
            t: 'exec',
            id: 20 + n,
            lease: 20,
            sql: "insert into t values ('rogue')",
            params: [],
            op: `${victim}:${n}`,
          })
        route.postMessage({ t: 'release', leases: [20] })
        await new Promise((r) => setTimeout(r, 500))
      }
      ;(window as any).rogueKeepLock = keepLock
      return {
        rejected: replies.filter((m) => m?.t === 'rejected').map((m) => `${m.error.name}: ${m.error.message}`),
        gotRoute: !!route,
        answers: answers
          .filter((a) => typeof a?.id === 'number' && (a.id >= 10 || a.id === 8 || a.id === 9))
          .map((a) => ({ id: a.id, t: a.t, name: a.error?.name })),
        gotSecondRoute: replies.filter((m) => m?.t === 'route').length > 1,
      }
    },
    [filename, GARBAGE, PROTOCOL_VERSION] as const,
  )
}

test('garbage posted to the coordinator and to the active worker changes nothing and wedges no tab', async ({ context }) => {
  const file = uniqueFilename()
  const options = { hangTimeoutMs: 1500 }
  const a = await openTab(context, file, options)
  const b = await openTab(context, file, options)
  await query(a, 'create table t (v text)')
  await query(b, "insert into t values ('kept')")
  const evil = await openTab(context, uniqueFilename('other'))
  const result = await rogue(evil, file)
  // The old release is told, clearly; so is a join with another member's id.
  expect(result.rejected).toEqual([
    expect.stringMatching(/^ProtocolError: This tab speaks protocol version 999/),
    expect.stringMatching(/^ProtocolError: Tab id .* is taken by another tab$/),
  ])
  expect(result.gotRoute).toBe(true)
  expect(result.answers).toEqual([
    { id: 10, t: 'error', name: 'TypeError' },
    { id: 11, t: 'error', name: 'RangeError' },
    ...[21, 22, 23, 24, 25].map((id) => ({ id, t: 'error', name: 'ProtocolError' })),
  ])
  // Every real tab still works (none lost its lines, none had its writes recorded before it made
  // them), and no data changed.
  expect(await query(a, 'select v from t')).toEqual([{ v: 'kept' }])
  for (const tab of [a, b]) {
    for (let n = 0; n < 5; n++) await tab.evaluate(() => window.db.insertInto('t').values({ v: 'after' }).execute())
  }
  expect(await query(a, 'select v, count(*) as n from t group by v order by v')).toEqual([
    { v: 'after', n: 10 },
    { v: 'kept', n: 1 },
  ])

  // The rogue "tab" is now a member whose worker never answers. When the active tab closes, the
  // election may pick it; it shows no progress, so it is skipped and a real tab takes over.
  const active = await activeTab([a, b])
  const survivor = active === a ? b : a
  const former = (await status(active)).tabId
  await active.close()
  await waitForNewActive(survivor, former, 30_000)
  expect(await query(survivor, 'select count(*) as n from t')).toEqual([{ n: 11 }])
})

test("a coordinator that has not seen a tab yet (just restarted) refuses a join with the tab's id but not its secret", async ({
  context,
}) => {
  const victim = await openTab(context, uniqueFilename())
  const victimId = (await status(victim)).tabId
  const evil = await openTab(context, uniqueFilename('other'))
  await installFakeMembers(evil)
  // A coordinator with no record of any tab, as one is after a restart: the victim's id is public
  // (the roster), its secret is not.
  const replies = await evil.evaluate(
    async ([tabId, fresh]) => {
      const name = `kysely-multitab/${fresh}`
      const shared = new SharedWorker('/dist/coordinator.js', { type: 'module', name })
      const replies: string[] = []
      shared.port.onmessage = (e) =>
        replies.push(e.data.t === 'rejected' ? `${e.data.error.name}: ${e.data.error.message}` : e.data.t)
      shared.port.start()
      const members = (window as any).fakeMembers as FakeMembers
      members.join(shared.port, name, { tabId, secret: 'guessed', workerPort: new MessageChannel().port2 })
      // Its own identity is welcome: the check refuses only a stolen id.
      const own = await members.identity()
      await members.holdLock(name, own.tabId)
      members.join(shared.port, name, { ...own, workerPort: new MessageChannel().port2 })
      const started = Date.now()
      while (!replies.includes('welcome') && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20))
      return replies.filter((t) => t !== 'roster' && t !== 'standby')
    },
    [victimId, uniqueFilename('fresh')] as const,
  )
  expect(replies).toEqual([`ProtocolError: Tab id ${victimId} is taken by another tab`, 'welcome'])
  expect(await query(victim, 'select 1 as x')).toEqual([{ x: 1 }])
})

test('members whose worker never answers, claiming to be oldest, hold up one failover once each, not every failover', async ({
  context,
}) => {
  const file = uniqueFilename()
  const options = { hangTimeoutMs: 1500 }
  const tabs = [
    await openTab(context, file, options),
    await openTab(context, file, options),
    await openTab(context, file, options),
  ]
  await query(tabs[0]!, 'create table t (v integer)')
  for (const tab of tabs) await query(tab, 'select 1')
  const evil = await openTab(context, uniqueFilename('other'))
  // Two "tabs" whose workers never answer, each saying it joined first and may stall for 3 s (a
  // claim of days is cut to 60 s: test/coordinator.test.ts).
  await installFakeMembers(evil)
  await evil.evaluate(async (f) => {
    const name = `kysely-multitab/${f}`
    const shared = new SharedWorker('/dist/coordinator.js', { type: 'module', name })
    shared.port.start()
    const members = (window as any).fakeMembers as FakeMembers
    const activates: number[] = []
    // Kept: a collected port would close, and the coordinator would drop its members.
    const kept: MessagePort[] = [shared.port]
    Object.assign(window, { fakeActivates: activates, fakePorts: kept })
    for (let i = 0; i < 2; i++) {
      const identity = await members.identity()
      await members.holdLock(name, identity.tabId)
      const worker = new MessageChannel()
      activates.push(0)
      kept.push(worker.port1)
      worker.port1.onmessage = (e) => void (e.data?.t === 'activate' && activates[i]++)
      members.join(shared.port, name, { ...identity, workerPort: worker.port2, since: 0, hangTimeoutMs: 3000 })
    }
  }, file)
  await expect.poll(async () => (await status(tabs[0]!)).tabs.length).toBe(5)
  const activates = () => evil.evaluate(() => (window as any).fakeActivates as number[])
  // Two failovers: each fake is tried at the first (given up after its 3 s), and not at the second.
  for (const round of [0, 1]) {
    const active = await activeTab(tabs.filter((t) => !t.isClosed()))
    const former = (await status(active)).tabId
    await active.close()
    const survivor = tabs.find((t) => !t.isClosed())!
    await waitForNewActive(survivor, former, 20_000)
    await survivor.evaluate((v) => window.db.insertInto('t').values({ v }).execute(), round)
    expect(await activates()).toEqual([1, 1])
    expect((await status(survivor)).tabs).toHaveLength(4 - round) // the fakes are still members
  }
  expect(await query(tabs[2]!, 'select v from t order by v')).toEqual([{ v: 0 }, { v: 1 }])
})

test('bad parameters fail with a TypeError naming the index, before anything is sent', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  const b = await openTab(context, file)
  await query(a, 'create table t (k, v)')
  const errors = await b.evaluate(async () => {
    const out = []
    const { CompiledQuery } = window.harness
    for (const bad of [{ x: 1 }, new Date(0), () => 1, Symbol('s'), [1, 2]]) {
      try {
        await window.db.executeQuery(CompiledQuery.raw('insert into t values (?, ?)', [1, bad]))
        out.push('accepted')
      } catch (e: any) {
        out.push(`${e.name}: ${e.message.split(',')[0]}`)
      }
    }
    return out
  })
  expect(errors).toEqual([
    'TypeError: Parameter 1 is a Object',
    'TypeError: Parameter 1 is a Date',
    'TypeError: Parameter 1 is a function',
    'TypeError: Parameter 1 is a symbol',
    'TypeError: Parameter 1 is a Array',
  ])
  expect(await query(a, 'select count(*) as n from t')).toEqual([{ n: 0 }])
  // NaN binds as SQLite binds it (NULL); booleans as 1/0.
  await b.evaluate(() =>
    window.db
      .insertInto('t')
      .values([
        { k: 1, v: Number.NaN },
        { k: 2, v: true },
      ])
      .execute(),
  )
  expect(await query(a, 'select v from t order by rowid')).toEqual([{ v: null }, { v: 1 }])
})

test('large values round-trip (a 50 MB blob, a 1M-row result) while other tabs keep working', async ({ context }) => {
  test.setTimeout(120_000)
  const file = uniqueFilename()
  const a = await openTab(context, file, { hangTimeoutMs: 20_000 })
  const b = await openTab(context, file, { hangTimeoutMs: 20_000 })
  await query(a, 'create table big (b blob)')
  const blob = await b.evaluate(async () => {
    const bytes = new Uint8Array(50 * 1024 * 1024)
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251
    await window.db.insertInto('big').values({ b: bytes }).execute()
    const [row] = await window.db.selectFrom('big').select('b').execute()
    let same = row.b.length === bytes.length
    for (let i = 0; i < bytes.length && same; i += 4096) same = row.b[i] === bytes[i]
    return { length: row.b.length, same }
  })
  expect(blob).toEqual({ length: 50 * 1024 * 1024, same: true })

  const rows = b.evaluate(async () => {
    const { sql } = window.harness
    const result =
      await sql`with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000000) select x, 'row ' || x as label from c`.execute(
        window.db,
      )
    return { count: result.rows.length, last: result.rows.at(-1) }
  })
  // Meanwhile tab A's small queries are answered (after the big one, not stuck behind it forever).
  const small = await a.evaluate(async () => {
    const t0 = performance.now()
    for (let i = 0; i < 5; i++)
      await window.db
        .selectFrom('big')
        .select((eb: any) => eb.fn.countAll().as('n'))
        .execute()
    return performance.now() - t0
  })
  expect(await rows).toEqual({ count: 1_000_000, last: { x: 1_000_000, label: 'row 1000000' } })
  expect(small).toBeGreaterThan(0)
  expect(await tryQuery(a, 'select 1 as ok')).toMatchObject({ ok: true, rows: [{ ok: 1 }] })
})

test('one tab’s failures never break another’s work', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file, { leaseTimeoutMs: 1000 })
  const b = await openTab(context, file, { leaseTimeoutMs: 1000 })
  await query(a, 'create table t (v integer primary key)')
  const bWork = b.evaluate(async () => {
    const out: string[] = []
    for (let i = 0; i < 30; i++) {
      out.push(
        await window.db
          .insertInto('t')
          .values({ v: 1000 + i })
          .execute()
          .then(
            () => 'ok',
            (e: Error) => e.name,
          ),
      )
    }
    return out
  })
  await a.evaluate(async () => {
    const tries = []
    // Failing statements, a throwing transaction callback, a failing statement inside a transaction.
    tries.push(window.db.insertInto('nope').values({ v: 1 }).execute())
    tries.push(
      window.db.transaction().execute(async () => {
        throw new Error('app bug')
      }),
    )
    tries.push(
      window.db.transaction().execute(async (trx: any) => {
        await trx.insertInto('t').values({ v: 1 }).execute()
        await trx.insertInto('t').values({ v: 1 }).execute() // duplicate key
      }),
    )
    await Promise.allSettled(tries)
    // An abandoned controlled transaction: never committed nor rolled back.
    const trx = await window.db.startTransaction().execute()
    await trx.insertInto('t').values({ v: 2 }).execute()
  })
  expect(await bWork).toEqual(new Array(30).fill('ok'))
  expect(await query(b, 'select count(*) as n from t where v < 1000')).toEqual([{ n: 0 }])
})

test('the debug option logs routing and hand-offs in the tab and its worker', async ({ context }) => {
  const file = uniqueFilename()
  const logs: string[] = []
  const a = await context.newPage()
  a.on('console', (m) => logs.push(m.text()))
  await a.goto('/e2e/pages/harness.html')
  await a.waitForFunction(() => window.harness !== undefined)
  await a.evaluate((f) => void window.harness.open(f, { debug: true }), file)
  await query(a, 'select 1')
  const b = await openTab(context, file, { debug: true })
  b.on('console', (m) => logs.push(m.text()))
  await query(b, 'select 1')
  await a.close()
  await query(b, 'select 1')
  await expect
    .poll(() => logs.some((l) => l.includes('[kysely-multitab tab') && l.includes('coordinator: route-lost')))
    .toBe(true)
  expect(logs.some((l) => l.includes('[kysely-multitab worker') && l.includes('opened the database'))).toBe(true)
})

test("a route or route-lost posted on a tab's channel line with a reason not on the list changes nothing", async ({
  context,
}) => {
  const file = uniqueFilename()
  // Under the Web Locks coordinator a tab's line to it is a BroadcastChannel named in its join,
  // which any script of the origin that listens on the join channel sees.
  const spy = await context.newPage()
  await spy.goto(new URL('/e2e/pages/harness.html', test.info().project.use.baseURL).href)
  await spy.evaluate((joinChannel) => {
    const lines: string[] = []
    ;(window as any).joinedLines = lines
    const channel = new BroadcastChannel(joinChannel)
    channel.onmessage = (event) => event.data?.t === 'join' && lines.push(event.data.line)
    ;(window as any).spyChannel = channel
  }, `kysely-multitab/${file}:join`)
  const tab = await openTab(context, file, { coordinator: 'web-locks' })
  expect(await query(tab, 'select 1 as one')).toEqual([{ one: 1 }])
  const lines: string[] = await spy.evaluate(() => (window as any).joinedLines)
  expect(lines.length).toBeGreaterThan(0)

  await spy.evaluate(
    ([names, v]) => {
      for (const name of new Set(names)) {
        const line = new BroadcastChannel(`kysely-multitab/line/${name}`)
        // Past any election's epoch, so that only the reason could keep it out.
        const epoch = 2 ** 52
        line.postMessage({ t: 'route-lost', v, epoch, reason: 'pwned <img src=x>' })
        line.postMessage({
          t: 'route',
          v,
          epoch,
          activeTabId: 'nobody',
          reason: 'pwned <img src=x>',
          port: crypto.randomUUID(),
          token: 'x',
          storage: 'opfs-sahpool',
        })
      }
    },
    [lines, PROTOCOL_VERSION] as const,
  )
  // Both messages would reach the tab at once: give them time to.
  await tab.waitForTimeout(500)
  const events = await tab.evaluate(() => window.events.filter((e) => e.type !== 'fallback'))
  expect(events.map((e) => e.reason)).not.toContain('pwned <img src=x>')
  expect(await tryQuery(tab, 'select 2 as two')).toMatchObject({ ok: true, rows: [{ two: 2 }] })
})
