#!/usr/bin/env node
// `npm run bench`: this dialect side by side with raw wa-sqlite (the physical floors) and the peer
// dialects (kysely-wasqlite-worker, SQLocal), in one headless Chromium session. Builds the pages
// (bench/build.mjs), serves them on 127.0.0.1 (bench/server.mjs), drives every contender
// interleaved round by round, prints the tables and saves bench/results/bench.json and
// bench/results/bench.html. Nothing here is a test: it measures and reports, it never fails on a
// number.
//
// Environment (defaults in brackets):
//   BENCH_ROUNDS [3]            rounds of W1-W4 (every contender once per round, order rotated)
//   BENCH_W1_CALLS [500]        W1 calls per block (after 50 warm-up calls)
//   BENCH_W1_BLOCKS [3]         W1 blocks per contender per round (interleaved A B C A B C)
//   BENCH_W2_ROWS [20000]       W2 single-row inserts in one transaction
//   BENCH_W3_BATCHES [20]       W3 multi-row inserts of 500 rows in one transaction
//   BENCH_W4_REPS [3]           W4 selects of all 10,000 rows per round (after one warm-up)
//   BENCH_OPEN_ROUNDS [5]       W5 rounds (fresh pages and database each time)
//   BENCH_MIXED_ROUNDS [3]      mixed 3-tab rounds; BENCH_MIXED_MS [3000] each
//   BENCH_FAILOVER_RUNS [20]    failover runs (active tab closed)
//   BENCH_SWITCHES [10]         background phase: tab switches per run
//   BENCH_FREEZES [20]          background phase: frozen active tabs per run (a quarter of it on 20 MB)
//   BENCH_PHASES [workloads,storage,heap,open,mixed,failover,failover-warm,background]  which phases to run
//                               (failover-warm: the same with the warmStandby option; background:
//                               tab switches, in a Chromium of its own, see background-tabs.mjs)
//   BENCH_ONLY                  comma list of contender ids for the workload phase (raw is kept)
//   BENCH_BEFORE                a git ref: this dialect as built at that ref runs beside the working
//                               tree's (contenders mtb2Active, mtb2Follower), to compare two builds
//   BENCH_INCOGNITO [0]         1: run in an incognito context (Playwright's default) instead of a
//                               fresh on-disk profile; OPFS there is in memory and its sync access
//                               handles are much slower, so numbers are not comparable
//   BENCH_PORT [4188]  BENCH_SKIP_BUILD [0]  CHROMIUM_PATH [/usr/bin/chromium]
//   BENCH_OUT [bench/results]   where bench.json and bench.html go
import { chromium } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromiumArgs } from '../scripts/chromium.mjs'
import { backgroundPhase } from './background-tabs.mjs'
import { buildBench } from './build.mjs'
import { renderHtml } from './report.mjs'
import { startServer } from './server.mjs'
import { fmtMs, fmtRatio, median, pct, round } from './stats.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = process.env
const num = (name, fallback) => (env[name] === undefined || env[name] === '' ? fallback : Number(env[name]))
const CFG = {
  rounds: num('BENCH_ROUNDS', 3),
  w1Calls: num('BENCH_W1_CALLS', 500),
  w1Blocks: num('BENCH_W1_BLOCKS', 3),
  w2Rows: num('BENCH_W2_ROWS', 20_000),
  w3Batches: num('BENCH_W3_BATCHES', 20),
  w4Reps: num('BENCH_W4_REPS', 3),
  openRounds: num('BENCH_OPEN_ROUNDS', 5),
  mixedRounds: num('BENCH_MIXED_ROUNDS', 3),
  mixedMs: num('BENCH_MIXED_MS', 3000),
  failoverRuns: num('BENCH_FAILOVER_RUNS', 20),
  switches: num('BENCH_SWITCHES', 10),
  freezes: num('BENCH_FREEZES', 20),
  phases: (env.BENCH_PHASES ?? 'workloads,storage,heap,open,mixed,failover,failover-warm,background')
    .split(',')
    .map((s) => s.trim()),
  only: env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined,
  before: env.BENCH_BEFORE || undefined,
  incognito: env.BENCH_INCOGNITO === '1',
  port: num('BENCH_PORT', 4188),
}
const OUT = resolve(root, env.BENCH_OUT ?? 'bench/results')
const executablePath = env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = chromiumArgs
const base = `http://127.0.0.1:${CFG.port}/bench/.build`
const started = Date.now()
const stamp = started.toString(36)
const phase = (name) => CFG.phases.includes(name)

function log(...args) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...args)
}

// ---- browser and pages ---------------------------------------------------------------------

let context
let browser
let userDataDir
/** Every request URL each page (and its workers) made: to see who fetched a wasm. */
const requests = new WeakMap()
/** Wall-clock times (Date.now()) of a page's wasm fetches and of its worker's debug lines. */
const timelines = new WeakMap()

async function openPage(kind) {
  const page = await context.newPage()
  const urls = []
  requests.set(page, urls)
  const timeline = { wasmRequested: [], wasmDone: [], workerLog: [] }
  timelines.set(page, timeline)
  page.on('request', (r) => {
    urls.push(r.url())
    if (r.url().endsWith('.wasm')) timeline.wasmRequested.push(Date.now())
  })
  page.on('requestfinished', (r) => r.url().endsWith('.wasm') && timeline.wasmDone.push(Date.now()))
  page.on('worker', (w) => w.on('console', (m) => timeline.workerLog.push({ at: Date.now(), text: m.text() })))
  page.on('pageerror', (e) => log(`[${kind} pageerror] ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('404')) log(`[${kind} console.error] ${m.text().slice(0, 300)}`)
  })
  await page.goto(`${base}/${kind}/`)
  await page.waitForFunction(() => window.bench !== undefined)
  return page
}

const wasmFetched = (page) => (requests.get(page) ?? []).filter((u) => u.endsWith('.wasm')).map((u) => u.replace(base, ''))
const evaluate = (page, fn, arg) => page.evaluate(fn, arg)

/** Heap of the page's main thread and of each of its dedicated workers (CDP, after a GC). */
async function heaps(page) {
  const cdp = await page.context().newCDPSession(page)
  try {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {})
    const main = await cdp.send('Runtime.getHeapUsage')
    const pending = new Map()
    let nextId = 1
    cdp.on('Target.receivedMessageFromTarget', ({ message }) => {
      const m = JSON.parse(message)
      pending.get(m.id)?.(m)
    })
    const attached = []
    cdp.on('Target.attachedToTarget', (e) => attached.push(e))
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false })
    await new Promise((r) => setTimeout(r, 300))
    const workers = []
    for (const a of attached) {
      const send = (method, params = {}) =>
        Promise.race([
          new Promise((resolve) => {
            const id = nextId++
            pending.set(id, resolve)
            cdp
              .send('Target.sendMessageToTarget', { sessionId: a.sessionId, message: JSON.stringify({ id, method, params }) })
              .catch(() => resolve({}))
          }),
          new Promise((resolve) => setTimeout(() => resolve({}), 3000)),
        ])
      await send('HeapProfiler.collectGarbage')
      const r = await send('Runtime.getHeapUsage')
      if (r.result)
        workers.push({ type: a.targetInfo.type, url: a.targetInfo.url.replace(base, ''), usedMB: r.result.usedSize / 2 ** 20 })
    }
    return { pageHeapMB: main.usedSize / 2 ** 20, workers }
  } finally {
    await cdp.detach().catch(() => {})
  }
}

// ---- contenders ------------------------------------------------------------------------------

/** Runs workload `w` (with `n`) in `page` through `api` ('w': raw client, 'wp': raw over a port, 'k': Kysely). */
const viaPage = (page, api) => (w, n) => evaluate(page, ([api, w, n]) => window.bench[api][w](n), [api, w, n])
const viaInside = (page) => (w, n) => evaluate(page, ([w, n]) => window.bench.inside(w, n), [w, n])

const WORKLOADS = [
  {
    id: 'w1-select1',
    fn: 'select1',
    title: 'W1 select 1, awaited one by one',
    short: 'W1 select 1',
    perCall: true,
    n: () => CFG.w1Calls,
  },
  {
    id: 'w1-point',
    fn: 'point',
    title: 'W1 point select by primary key, one by one',
    short: 'W1 point',
    perCall: true,
    n: () => CFG.w1Calls,
  },
  {
    id: 'w1-point-all',
    fn: 'pointAll',
    title: 'W1 point select, 50 at a time with Promise.all',
    short: 'W1 point Promise.all',
    perCall: true,
    n: () => CFG.w1Calls,
  },
  {
    id: 'w4-select-all',
    fn: 'selectAll',
    title: 'W4 select 10,000 rows',
    short: 'W4 10k rows',
    perCall: true,
    n: () => CFG.w4Reps,
  },
  {
    id: 'w3-batches',
    fn: 'batches',
    title: `W3 ${CFG.w3Batches} inserts of 500 rows, one transaction`,
    short: 'W3 batches',
    perCall: false,
    n: () => CFG.w3Batches,
  },
  {
    id: 'w2-inserts',
    fn: 'inserts',
    title: `W2 ${CFG.w2Rows} single-row inserts awaited one by one, one transaction`,
    short: 'W2 inserts',
    perCall: false,
    n: () => CFG.w2Rows,
  },
  {
    id: 'w1-select1-hot',
    fn: 'select1',
    title: 'W1 select 1, hot (after the other workloads)',
    short: 'W1 select 1 hot',
    perCall: true,
    n: () => CFG.w1Calls,
  },
  {
    id: 'w1-point-hot',
    fn: 'point',
    title: 'W1 point select, hot (after the other workloads)',
    short: 'W1 point hot',
    perCall: true,
    n: () => CFG.w1Calls,
  },
]
const W1_ONLY = new Set(['select1', 'point', 'pointAll'])

// ---- main ------------------------------------------------------------------------------------

const results = {
  meta: {},
  config: CFG,
  contenders: [],
  workloads: {},
  targets: [],
}

async function main() {
  if (env.BENCH_SKIP_BUILD !== '1') log(`built bench/.build in ${await buildBench()} ms (dialect bundled from src/)`)
  const server = await startServer(CFG.port)
  log(`serving ${base}/ on 127.0.0.1:${CFG.port}`)
  const loadStart = loadavg().map((x) => x.toFixed(2))
  try {
    if (CFG.incognito) {
      browser = await chromium.launch({ executablePath, args: ARGS })
      context = await browser.newContext()
    } else {
      userDataDir = await mkdtemp(join(tmpdir(), 'kysely-multitab-bench-'))
      context = await chromium.launchPersistentContext(userDataDir, { executablePath, args: ARGS })
    }
    const probePage = await openPage('raw')
    const ua = await evaluate(probePage, () => navigator.userAgent)
    await probePage.close()
    results.meta = {
      date: new Date().toISOString(),
      browser: (ua.match(/(HeadlessChrome|Chrome)\/[\d.]+/) ?? [ua])[0],
      profile: CFG.incognito ? 'incognito context (OPFS in memory)' : 'fresh on-disk profile (persistent context)',
      commit: git(['rev-parse', '--short', 'HEAD']),
      dirty: git(['status', '--porcelain', '--', 'src']) !== '',
      cpus: cpus().length,
      node: process.version,
      versions: await versions(),
      loadAverage: { start: loadStart, end: [] },
    }
    log(`${results.meta.browser}, ${results.meta.profile}; load average ${loadStart.join(' ')} on ${cpus().length} cores`)
    if (results.meta.dirty) log('note: src/ has uncommitted changes; the dialect is bundled from the working tree')

    if (phase('workloads') || phase('storage') || phase('heap')) await workloadPhase()
    if (phase('open')) await openPhase()
    if (phase('mixed')) await mixedPhase()
    if (phase('failover')) results.failover = await failoverPhase({})
    if (phase('failover-warm')) results.failoverWarm = await failoverPhase({ warmStandby: true })
    if (phase('background'))
      results.background = await backgroundPhase({ base, stamp, switches: CFG.switches, freezes: CFG.freezes, log })
  } finally {
    await context?.close().catch(() => {})
    await browser?.close().catch(() => {})
    server.close()
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {})
  }
  results.meta.loadAverage.end = loadavg().map((x) => x.toFixed(2))
  results.meta.durationS = Math.round((Date.now() - started) / 1000)
  evaluateTargets()
  printAll()
  await mkdir(OUT, { recursive: true })
  await writeFile(join(OUT, 'bench.json'), JSON.stringify(results, null, 2) + '\n')
  await writeFile(join(OUT, 'bench.html'), renderHtml(results))
  log(`saved ${join(OUT, 'bench.json').replace(root + '/', '')} and ${join(OUT, 'bench.html').replace(root + '/', '')}`)
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
  } catch {
    return '?'
  }
}

async function versions() {
  const v = async (p) => {
    try {
      return JSON.parse(await readFile(join(root, 'node_modules', p, 'package.json'), 'utf8')).version
    } catch {
      return '?'
    }
  }
  return {
    kysely: await v('kysely'),
    'wa-sqlite': await v('wa-sqlite'),
    'kysely-wasqlite-worker': await v('kysely-wasqlite-worker'),
    '@subframe7536/sqlite-wasm': await v('@subframe7536/sqlite-wasm'),
    sqlocal: await v('sqlocal'),
    '@sqlite.org/sqlite-wasm': await v('@sqlite.org/sqlite-wasm'),
  }
}

// ---- W1-W4, interleaved ------------------------------------------------------------------------

async function workloadPhase() {
  const raw = `raw-${stamp}`
  const host = await openPage('raw')
  const hostOpen = await evaluate(host, (n) => window.bench.open(n), raw)
  await evaluate(host, () => window.bench.w.setup())
  const guest = await openPage('raw')
  await evaluate(guest, (n) => window.bench.join(n), raw)

  const mtTabs = async (count, name, options = {}, kind = 'mt') => {
    const pages = []
    for (let i = 0; i < count; i++) {
      const p = await openPage(kind)
      await evaluate(p, ([f, o]) => window.bench.open(f, o), [name, options])
      pages.push(p)
    }
    const roles = await Promise.all(pages.map((p) => evaluate(p, () => window.bench.status().then((s) => s.role))))
    if (roles[0] !== 'active' || roles.slice(1).some((r) => r !== 'follower'))
      throw new Error(`${name}: unexpected roles ${roles}`)
    await evaluate(pages[0], () => window.bench.k.setup())
    return pages
  }
  const mt2 = await mtTabs(2, `mt2-${stamp}.db`)
  const mt4 = await mtTabs(4, `mt4-${stamp}.db`)
  const mtb2 = CFG.before ? await mtTabs(2, `mtb2-${stamp}.db`, {}, 'mtb') : []
  // The fallbacks (issue 4), opened only when asked for (BENCH_ONLY): they are slower to fill.
  const wanted = (id) => CFG.only?.includes(id)
  const wl2 = wanted('wl2Active') || wanted('wl2Follower') ? await mtTabs(2, `wl2-${stamp}.db`, { coordinator: 'web-locks' }) : []
  const storageTab = async (storage) =>
    wanted(`st-${storage}`) ? (await mtTabs(1, `st-${storage}-${stamp}.db`, { storage }))[0] : undefined
  const [stOpfs, stIdb, stMemory] = [await storageTab('opfs'), await storageTab('idb'), await storageTab('memory')]
  const kww = await openPage('kww')
  await evaluate(kww, (f) => window.bench.open(f), `kww-${stamp}.db`)
  await evaluate(kww, () => window.bench.k.setup())
  const sqlocal = await openPage('sqlocal')
  await evaluate(sqlocal, (f) => window.bench.open(f), `sqlocal-${stamp}.db`)
  await evaluate(sqlocal, () => window.bench.k.setup())
  log(
    `opened: raw host (worker open ${fmtMs(hostOpen.workerOpenMs)}), raw guest, 2 + 4 tabs of this dialect, kysely-wasqlite-worker, SQLocal; tables filled`,
  )

  const all = [
    {
      id: 'raw',
      group: 'floor',
      label: '1 raw (baseline)',
      what: 'wa-sqlite sync build + AccessHandlePoolVFS in a DedicatedWorker, plain postMessage from the same tab',
      run: viaPage(host, 'w'),
      page: host,
    },
    {
      id: 'inside',
      group: 'floor',
      label: '2 SQLite in the worker',
      what: 'the same statements timed inside that worker (no message per statement)',
      run: viaInside(host),
      page: host,
    },
    {
      id: 'rawKysely',
      group: 'floor',
      label: '3 raw + minimal Kysely dialect',
      what: "row 1 behind a minimal Kysely dialect (Kysely's own cost)",
      run: viaPage(host, 'k'),
      page: host,
    },
    {
      id: 'rawFollower',
      group: 'floor',
      label: '4 raw from a 2nd tab (port)',
      what: "a second tab with a MessagePort straight into the first tab's worker (the floor for any follower)",
      run: viaPage(guest, 'w'),
      page: guest,
    },
    {
      id: 'rawPort',
      group: 'diagnostic',
      label: 'raw via a port, same tab',
      what: 'row 1 over a MessagePort (made in this tab) instead of Worker.postMessage (diagnostic: is a port slower?)',
      run: viaPage(host, 'wp'),
      page: host,
    },
    {
      id: 'mt2Active',
      group: 'dialect',
      label: 'multitab active (2 tabs)',
      what: 'this dialect, from the active tab, 2 tabs open',
      run: viaPage(mt2[0], 'k'),
      page: mt2[0],
    },
    {
      id: 'mt2Follower',
      group: 'dialect',
      label: 'multitab follower (2 tabs)',
      what: 'this dialect, from a follower tab, 2 tabs open',
      run: viaPage(mt2[1], 'k'),
      page: mt2[1],
    },
    {
      id: 'mtb2Active',
      group: 'dialect',
      label: `multitab active at ${CFG.before}`,
      what: `this dialect as built at ${CFG.before} (BENCH_BEFORE), from the active tab, 2 tabs open`,
      run: mtb2[0] && viaPage(mtb2[0], 'k'),
      page: mtb2[0],
    },
    {
      id: 'mtb2Follower',
      group: 'dialect',
      label: `multitab follower at ${CFG.before}`,
      what: `this dialect as built at ${CFG.before} (BENCH_BEFORE), from a follower tab, 2 tabs open`,
      run: mtb2[1] && viaPage(mtb2[1], 'k'),
      page: mtb2[1],
    },
    {
      id: 'mt4Active',
      group: 'dialect',
      label: 'multitab active (4 tabs)',
      what: 'this dialect, from the active tab, 4 tabs open',
      run: viaPage(mt4[0], 'k'),
      page: mt4[0],
    },
    {
      id: 'mt4Follower',
      group: 'dialect',
      label: 'multitab follower (4 tabs)',
      what: 'this dialect, from a follower tab, 4 tabs open',
      run: viaPage(mt4[1], 'k'),
      page: mt4[1],
    },
    {
      id: 'wl2Active',
      group: 'fallback',
      label: 'multitab web-locks active',
      what: "this dialect with coordinator: 'web-locks', from the active tab, 2 tabs open",
      run: wl2[0] && viaPage(wl2[0], 'k'),
      page: wl2[0],
    },
    {
      id: 'wl2Follower',
      group: 'fallback',
      label: 'multitab web-locks follower',
      what: "this dialect with coordinator: 'web-locks', from a follower tab (BroadcastChannel line), 2 tabs open",
      run: wl2[1] && viaPage(wl2[1], 'k'),
      page: wl2[1],
    },
    {
      id: 'st-opfs',
      group: 'fallback',
      label: "multitab storage 'opfs'",
      what: "this dialect with storage: 'opfs' (no sync handles: createWritable VFS, Asyncify build), active tab",
      run: stOpfs && viaPage(stOpfs, 'k'),
      page: stOpfs,
    },
    {
      id: 'st-idb',
      group: 'fallback',
      label: "multitab storage 'idb'",
      what: "this dialect with storage: 'idb' (IDBBatchAtomicVFS, Asyncify build), active tab",
      run: stIdb && viaPage(stIdb, 'k'),
      page: stIdb,
    },
    {
      id: 'st-memory',
      group: 'fallback',
      label: "multitab storage 'memory'",
      what: "this dialect with storage: 'memory' (MemoryVFS, sync build), active tab",
      run: stMemory && viaPage(stMemory, 'k'),
      page: stMemory,
    },
    {
      id: 'kww',
      group: 'peer',
      label: 'kysely-wasqlite-worker',
      what: 'kysely-wasqlite-worker (OPFSCoopSyncVFS, preferOPFS: true), one tab',
      run: viaPage(kww, 'k'),
      page: kww,
    },
    {
      id: 'sqlocal',
      group: 'peer',
      label: 'SQLocal (sqlocal/kysely)',
      what: 'SQLocal\'s Kysely dialect (@sqlite.org/sqlite-wasm "opfs" VFS), one tab served with COOP/COEP',
      run: viaPage(sqlocal, 'k'),
      page: sqlocal,
    },
  ]
  const contenders = all.filter((c) => c.run && (!CFG.only || c.id === 'raw' || CFG.only.includes(c.id)))
  results.contenders = contenders.map(({ id, group, label, what }) => ({ id, group, label, what }))

  if (phase('workloads')) {
    const samples = {} // workload id -> contender id -> [{ total, each }]
    const probes = []
    for (let round = 0; round < CFG.rounds; round++) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
      for (const w of WORKLOADS) {
        const t0 = Date.now()
        const blocks = w.perCall && W1_ONLY.has(w.fn) ? CFG.w1Blocks : 1
        for (let b = 0; b < blocks; b++) {
          for (const c of order) {
            if (c.only && !c.only.has(w.fn)) continue
            const r = await c.run(w.fn, w.n())
            ;((samples[w.id] ??= {})[c.id] ??= []).push(r)
          }
        }
        log(`round ${round + 1}/${CFG.rounds}: ${w.short} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      }
      // Breakdown probe: the dialect's worker code driven from inside one worker.
      try {
        probes.push(
          await evaluate(host, ([name, n]) => window.bench.probe(name, n, 5000), [`probe-${round}-${stamp}`, CFG.w1Calls]),
        )
      } catch (error) {
        log(`breakdown probe failed (src/ changed?): ${error.message.split('\n')[0]}`)
      }
    }
    for (const w of WORKLOADS) {
      const out = { title: w.title, short: w.short, perCall: w.perCall, n: w.n(), results: {} }
      for (const c of contenders) {
        const runs = samples[w.id]?.[c.id]
        if (!runs) continue
        const n = w.n()
        const blocks = runs.map((r) => (w.perCall ? r.total / n : r.total))
        const each = runs.flatMap((r) => r.each)
        out.results[c.id] = {
          metricMs: round(median(blocks), 4),
          roundsMs: blocks.map((b) => round(b, 4)),
          p50Ms: round(pct(each, 50), 4),
          p95Ms: round(pct(each, 95), 4),
          maxMs: round(
            each.reduce((a, b) => Math.max(a, b), -Infinity),
            4,
          ),
        }
      }
      const baseline = out.results.raw?.metricMs
      const kysely = out.results.rawKysely?.metricMs
      const floor = out.results.rawFollower?.metricMs
      for (const [cid, r] of Object.entries(out.results)) {
        if (baseline) r.ratio = round(r.metricMs / baseline, 3)
        // The dialect's own share: against raw behind a minimal Kysely dialect (same Kysely work),
        // and, for followers, against the raw floor for any follower (row 4).
        if (kysely && cid.startsWith('mt')) r.ratioToRawKysely = round(r.metricMs / kysely, 3)
        if (floor && cid.startsWith('mt') && cid.includes('Follower')) r.ratioToFollowerFloor = round(r.metricMs / floor, 3)
      }
      results.workloads[w.id] = out
    }
    results.breakdown = breakdown(probes)
  }

  if (phase('storage')) {
    results.storage = []
    const pairs = [
      ['raw', host, 'w'],
      ['multitab (2 tabs)', mt2[0], 'k'],
      ['multitab (4 tabs)', mt4[0], 'k'],
      ['kysely-wasqlite-worker', kww, 'k'],
      ['SQLocal', sqlocal, 'k'],
    ]
    for (const [label, page, api] of pairs) {
      const w = await evaluate(page, () => window.bench.where())
      const pragmas = await evaluate(page, (api) => window.bench[api].pragmas(), api).catch((e) => ({ error: e.message }))
      const note = w.sqlocal
        ? `SQLocal getDatabaseInfo(): storageType=${w.sqlocal.storageType}, databasePath=${w.sqlocal.databasePath}, ${w.sqlocal.databaseSizeBytes} bytes`
        : label.startsWith('kysely-wasqlite') && w.indexedDb.length === 0 && w.opfsFiles.length > 0
          ? 'OPFS (preferOPFS: true); no IndexedDB database'
          : ''
      // OPFS files grouped by folder: "dir/: n file(s), largest B".
      const byDir = new Map()
      for (const f of w.opfsFiles) {
        const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/') + 1) : '(root) ' + f.path
        const d = byDir.get(dir) ?? { n: 0, largest: 0 }
        d.n++
        d.largest = Math.max(d.largest, f.bytes)
        byDir.set(dir, d)
      }
      const opfsFiles = [...byDir].map(([dir, d]) => `${dir}: ${d.n} file(s), largest ${d.largest} B`).join('; ')
      const p = pragmas.error
        ? pragmas.error
        : `journal_mode=${pragmas.journal_mode} synchronous=${pragmas.synchronous} locking_mode=${pragmas.locking_mode} page_size=${pragmas.page_size} cache_size=${pragmas.cache_size}`
      results.storage.push({
        label,
        opfsFiles,
        opfsFileList: w.opfsFiles,
        opfsBytes: w.opfsBytes,
        indexedDb: w.indexedDb,
        crossOriginIsolated: w.crossOriginIsolated,
        pragmas: p,
        note,
      })
    }
  }

  if (phase('heap')) {
    results.heap = []
    const tabs = [
      ['raw host tab (its wasm count includes the breakdown probe workers)', host],
      ['raw 2nd tab (port)', guest],
      ['multitab active (2 tabs)', mt2[0]],
      ['multitab follower (2 tabs)', mt2[1]],
      ['multitab follower (4 tabs, idle)', mt4[2]],
      ['kysely-wasqlite-worker tab', kww],
      ['SQLocal tab', sqlocal],
    ]
    for (const [label, page] of tabs) {
      const h = await heaps(page)
      results.heap.push({ label, ...h, wasm: wasmFetched(page) })
    }
  }
  for (const p of [host, guest, ...mt2, ...mt4, kww, sqlocal]) await p.close()
}

function breakdown(probes) {
  if (probes.length === 0) return undefined
  const med = (f) => median(probes.map(f).filter((x) => typeof x === 'number'))
  const w = results.workloads
  const get = (wid, cid) => w[wid]?.results[cid]?.metricMs
  const insertPer = (cid) => (w['w2-inserts']?.results[cid]?.metricMs ?? NaN) / CFG.w2Rows
  const batchPer = (cid) => (w['w3-batches']?.results[cid]?.metricMs ?? NaN) / CFG.w3Batches
  const rows = [
    {
      label: 'SQLite alone, in the worker (raw loop)',
      select1: get('w1-select1', 'inside'),
      point: get('w1-point', 'inside'),
      insert: insertPer('inside'),
      batch: batchPer('inside'),
    },
    {
      label: "dialect's SqliteEngine.exec() in a worker loop",
      select1: med((p) => p.engine.select1),
      point: med((p) => p.engine.point),
      insert: med((p) => p.engine.insertInTransaction),
      batch: med((p) => p.engine.batch500),
      autocommit: med((p) => p.engine.autocommitInsert),
    },
    {
      label: `  same, with ${probes[0].pragmas.join('; ')}`,
      select1: med((p) => p.enginePragmas.select1),
      point: med((p) => p.enginePragmas.point),
      insert: med((p) => p.enginePragmas.insertInTransaction),
      batch: med((p) => p.enginePragmas.batch500),
      autocommit: med((p) => p.enginePragmas.autocommitInsert),
    },
    {
      label: 'same-thread MessageChannel round trip (in a worker)',
      select1: med((p) => p.hop),
      point: med((p) => p.hop),
      insert: med((p) => p.hop),
    },
    {
      label: "dialect's LeaseQueue alone (no SQLite, no port): submit + release per statement",
      select1: med((p) => p.queue),
      point: med((p) => p.queue),
      insert: med((p) => p.queue),
    },
    {
      label: "dialect's worker pipeline (ActiveDatabase: validate, lease queue, fresh check, reply) over a same-thread port",
      select1: med((p) => p.pipeline.select1),
      point: med((p) => p.pipeline.point),
      insert: med((p) => p.pipeline.insertInTransaction),
      batch: med((p) => p.pipeline.batch500),
      autocommit: med((p) => p.pipeline.autocommitInsertRaw),
    },
    {
      label: '  same, lease queue short-circuited (its share in place)',
      select1: med((p) => p.pipelineNoQueue?.select1),
      point: med((p) => p.pipelineNoQueue?.point),
      insert: med((p) => p.pipelineNoQueue?.insertInTransaction),
      batch: med((p) => p.pipelineNoQueue?.batch500),
      autocommit: med((p) => p.pipelineNoQueue?.autocommitInsertRaw),
    },
    {
      label: '  same, setTimeout/clearTimeout no-ops (per-statement idle timer)',
      select1: med((p) => p.pipelineNoTimers?.select1),
      point: med((p) => p.pipelineNoTimers?.point),
      insert: med((p) => p.pipelineNoTimers?.insertInTransaction),
      batch: med((p) => p.pipelineNoTimers?.batch500),
    },
    {
      label: '  same, autocommit write with an op id (exactly-once ledger)',
      autocommit: med((p) => p.pipeline.autocommitInsertWithOp),
    },
    {
      label: 'raw round trip, Worker.postMessage (row 1)',
      select1: get('w1-select1', 'raw'),
      point: get('w1-point', 'raw'),
      insert: insertPer('raw'),
      batch: batchPer('raw'),
    },
    {
      label: 'raw round trip over a MessagePort, same tab',
      select1: get('w1-select1', 'rawPort'),
      point: get('w1-point', 'rawPort'),
      insert: insertPer('rawPort'),
      batch: batchPer('rawPort'),
    },
    {
      label: 'raw + minimal Kysely dialect (row 3)',
      select1: get('w1-select1', 'rawKysely'),
      point: get('w1-point', 'rawKysely'),
      insert: insertPer('rawKysely'),
      batch: batchPer('rawKysely'),
    },
    {
      label: 'raw from a 2nd tab over a port (row 4)',
      select1: get('w1-select1', 'rawFollower'),
      point: get('w1-point', 'rawFollower'),
      insert: insertPer('rawFollower'),
      batch: batchPer('rawFollower'),
    },
    {
      label: 'this dialect, active tab (2 tabs)',
      select1: get('w1-select1', 'mt2Active'),
      point: get('w1-point', 'mt2Active'),
      insert: insertPer('mt2Active'),
      batch: batchPer('mt2Active'),
    },
    {
      label: 'this dialect, follower tab (2 tabs)',
      select1: get('w1-select1', 'mt2Follower'),
      point: get('w1-point', 'mt2Follower'),
      insert: insertPer('mt2Follower'),
      batch: batchPer('mt2Follower'),
    },
    {
      label: 'kysely-wasqlite-worker',
      select1: get('w1-select1', 'kww'),
      point: get('w1-point', 'kww'),
      insert: insertPer('kww'),
      batch: batchPer('kww'),
    },
  ]
  // Derived: where the active tab's extra time per statement goes (ms).
  const d = (a, b) => (typeof a === 'number' && typeof b === 'number' ? round(a - b, 4) : undefined)
  const pipe = rows[5]
  const engine = rows[1]
  const hop = rows[3]
  const derived = {}
  for (const k of ['select1', 'point', 'insert']) {
    const raw = rows.find((r) => r.label.startsWith('raw round trip, Worker'))[k]
    const kys = rows.find((r) => r.label.startsWith('raw + minimal Kysely'))[k]
    const mtA = rows.find((r) => r.label.startsWith('this dialect, active'))[k]
    const mtF = rows.find((r) => r.label.startsWith('this dialect, follower'))[k]
    const floor = rows.find((r) => r.label.startsWith('raw from a 2nd tab'))[k]
    const worker = d(d(pipe[k], hop[k]), engine[k])
    derived[k] = {
      kyselyCost: d(kys, raw),
      dialectOverheadActive: d(mtA, kys),
      workerSideOverhead: worker,
      mainThreadAndOtherOverhead: d(d(mtA, kys), worker),
      crossTabHopCost: d(floor, raw),
      dialectOverheadFollowerOverFloor: d(d(mtF, floor), d(kys, raw)),
      engineOverSqlite: d(engine[k], rows[0][k]),
      exclusiveLockingSaves: d(engine[k], rows[2][k]),
    }
  }
  const notes = [
    `Kysely's own cost per statement (row 3 - row 1): select 1 ${fmtMs(derived.select1.kyselyCost)}, point ${fmtMs(derived.point.kyselyCost)}, insert ${fmtMs(derived.insert.kyselyCost)}.`,
    `This dialect's own cost on the active tab (active - row 3): select 1 ${fmtMs(derived.select1.dialectOverheadActive)}, point ${fmtMs(derived.point.dialectOverheadActive)}, insert ${fmtMs(derived.insert.dialectOverheadActive)}; of which in the worker (pipeline - same-thread round trip - engine): ${fmtMs(derived.select1.workerSideOverhead)}, ${fmtMs(derived.point.workerSideOverhead)}, ${fmtMs(derived.insert.workerSideOverhead)}; the rest on the tab's main thread and in scheduling: ${fmtMs(derived.select1.mainThreadAndOtherOverhead)}, ${fmtMs(derived.point.mainThreadAndOtherOverhead)}, ${fmtMs(derived.insert.mainThreadAndOtherOverhead)}.`,
    `The cross-tab hop alone (row 4 - row 1): select 1 ${fmtMs(derived.select1.crossTabHopCost)}, point ${fmtMs(derived.point.crossTabHopCost)}, insert ${fmtMs(derived.insert.crossTabHopCost)}: a follower can never be faster than row 4.`,
    `SqliteEngine over a bare wa-sqlite loop: select 1 ${fmtMs(derived.select1.engineOverSqlite)}, point ${fmtMs(derived.point.engineOverSqlite)}; exclusive locking + truncate journal would save ${fmtMs(derived.point.exclusiveLockingSaves)} per point select in the engine.`,
  ]
  return {
    rows: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 4) : v]))),
    derived,
    notes,
    probes,
  }
}

// ---- W5: open to first answer, follower join -------------------------------------------------

async function openPhase() {
  const kinds = [
    { kind: 'raw', label: 'raw wa-sqlite', group: 'floor' },
    { kind: 'mt', label: 'this dialect', group: 'dialect' },
    { kind: 'kww', label: 'kysely-wasqlite-worker', group: 'peer' },
    { kind: 'sqlocal', label: 'SQLocal', group: 'peer' },
  ]
  const first = {}
  const second = {}
  const followerWasm = []
  for (let round = 0; round < CFG.openRounds; round++) {
    for (let i = 0; i < kinds.length; i++) {
      const { kind } = kinds[(i + round) % kinds.length]
      const name = `open-${kind}-${round}-${stamp}${kind === 'raw' ? '' : '.db'}`
      const p1 = await openPage(kind)
      ;(first[kind] ??= []).push((await evaluate(p1, (n) => window.bench.open(n), name)).ms)
      const p2 = await openPage(kind)
      const joined =
        kind === 'raw'
          ? await evaluate(p2, (n) => window.bench.join(n), name)
          : await evaluate(p2, (n) => window.bench.open(n), name)
      ;(second[kind] ??= []).push(joined.ms)
      if (kind === 'mt') {
        const role = await evaluate(p2, () => window.bench.status().then((s) => s.role))
        if (role !== 'follower') log(`W5: the second tab is ${role}, not follower`)
        followerWasm.push(...wasmFetched(p2))
      }
      await p2.close()
      await p1.close()
    }
    log(`W5 round ${round + 1}/${CFG.openRounds} done`)
  }
  results.open = {
    rows: kinds.map(({ kind, label, group }) => ({
      kind,
      label,
      group,
      runs: first[kind].length,
      firstMs: round(median(first[kind]), 1),
      firstP95Ms: round(pct(first[kind], 95), 1),
      secondMs: round(median(second[kind]), 1),
      secondP95Ms: round(pct(second[kind], 95), 1),
      firstAllMs: first[kind].map((x) => round(x, 1)),
      secondAllMs: second[kind].map((x) => round(x, 1)),
      second:
        kind === 'raw'
          ? 'second tab joins over a port'
          : kind === 'mt'
            ? 'follower joins'
            : 'second tab opens its own connection',
    })),
    followerWasm,
  }
}

// ---- mixed read/write from 3 tabs ------------------------------------------------------------

async function mixedPhase() {
  const kinds = [
    { kind: 'raw', label: 'raw wa-sqlite (host + 2 tabs over ports)', group: 'floor', api: 'w' },
    { kind: 'mt', label: 'this dialect (1 active + 2 followers)', group: 'dialect', api: 'k' },
    { kind: 'kww', label: 'kysely-wasqlite-worker (3 tabs)', group: 'peer', api: 'k' },
    { kind: 'sqlocal', label: 'SQLocal (3 tabs)', group: 'peer', api: 'k' },
  ]
  const runs = {}
  for (let round = 0; round < CFG.mixedRounds; round++) {
    for (let i = 0; i < kinds.length; i++) {
      const { kind, api } = kinds[(i + round) % kinds.length]
      const name = `mixed-${kind}-${round}-${stamp}${kind === 'raw' ? '' : '.db'}`
      const pages = []
      try {
        for (let t = 0; t < 3; t++) {
          const p = await openPage(kind)
          if (kind === 'raw' && t > 0) await evaluate(p, (n) => window.bench.join(n), name)
          else await evaluate(p, (n) => window.bench.open(n), name)
          if (t === 0) await evaluate(p, (api) => window.bench[api].setup(), api)
          pages.push(p)
        }
        const startAt = Date.now() + 400
        const endAt = startAt + CFG.mixedMs
        const rs = await Promise.all(
          pages.map((p, t) =>
            evaluate(p, ([api, s, e, seed]) => window.bench[api].mixed(s, e, seed), [api, startAt, endAt, t + 1]),
          ),
        )
        const seconds = (Math.max(Date.now(), endAt) - startAt) / 1000
        ;(runs[kind] ??= []).push({
          ops: rs.reduce((s, r) => s + r.reads + r.writes, 0),
          reads: rs.reduce((s, r) => s + r.reads, 0),
          writes: rs.reduce((s, r) => s + r.writes, 0),
          errors: rs.reduce((s, r) => s + r.errors, 0),
          firstError: rs.find((r) => r.firstError)?.firstError,
          seconds,
          each: rs.flatMap((r) => r.each),
        })
      } catch (error) {
        ;(runs[kind] ??= []).push({
          ops: 0,
          reads: 0,
          writes: 0,
          errors: 1,
          firstError: error.message.split('\n')[0],
          seconds: CFG.mixedMs / 1000,
          each: [],
        })
      } finally {
        for (const p of pages.reverse()) await p.close()
      }
    }
    log(`mixed round ${round + 1}/${CFG.mixedRounds} done`)
  }
  results.mixed = {
    durationMs: CFG.mixedMs,
    rows: kinds.map(({ kind, label, group }) => {
      const rs = runs[kind]
      const each = rs.flatMap((r) => r.each)
      return {
        kind,
        label,
        group,
        opsPerS: round(median(rs.map((r) => r.ops / r.seconds)), 1),
        readsPerS: round(median(rs.map((r) => r.reads / r.seconds)), 1),
        writesPerS: round(median(rs.map((r) => r.writes / r.seconds)), 1),
        roundsOpsPerS: rs.map((r) => round(r.ops / r.seconds, 1)),
        p50Ms: round(pct(each, 50), 3),
        p95Ms: round(pct(each, 95), 3),
        errors: rs.reduce((s, r) => s + r.errors, 0),
        firstError: rs.find((r) => r.firstError)?.firstError,
      }
    }),
  }
}

// ---- failover --------------------------------------------------------------------------------

/** Failover runs with these dialect options (`warmStandby: true` for the warm variant). */
async function failoverPhase(options) {
  const all = []
  const steps = []
  const warm = options.warmStandby === true
  for (let run = 0; run < CFG.failoverRuns; run++) {
    const name = `failover-${warm ? 'warm-' : ''}${run}-${stamp}.db`
    const tabs = []
    for (let t = 0; t < 3; t++) {
      const p = await openPage('mt')
      // debug: the tab worker logs 'opened the database' (console), for the timeline below.
      await evaluate(p, ([f, o]) => window.bench.open(f, { debug: true, ...o }), [name, options])
      tabs.push(p)
    }
    const statuses = await Promise.all(tabs.map((p) => evaluate(p, () => window.bench.status())))
    const activeIndex = statuses.findIndex((s) => s.role === 'active')
    const formerId = statuses[activeIndex].tabId
    const survivor = tabs[(activeIndex + 1) % 3]
    if (warm) {
      // The standby warms up as soon as it is next in line; a user's tabs have been open a while.
      const ready = () => tabs.some((p) => timelines.get(p).workerLog.some((l) => l.text.includes('warm standby ready')))
      for (const deadline = Date.now() + 10_000; !ready() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20))
      if (!ready()) log('failover-warm: no warm standby reported ready within 10 s')
      // V8 keeps optimising a fresh wasm module in the background for a while; a real standby has
      // long been idle when its active tab goes, so let that settle rather than race it.
      await new Promise((r) => setTimeout(r, 1000))
    }
    const answered = evaluate(survivor, (id) => window.bench.firstAnswerAfter(id), formerId)
    const t0 = Date.now()
    await tabs[activeIndex].close()
    const at = await answered
    all.push(at - t0)
    // Timeline: survivor's events, and the new active tab's wasm fetch and 'opened' log line.
    try {
      const rest = tabs.filter((p) => !p.isClosed())
      const roles = await Promise.all(rest.map((p) => evaluate(p, () => window.bench.status().then((s) => s.role))))
      const next = rest[roles.indexOf('active')]
      const events = await evaluate(survivor, () => window.bench.events)
      const tl = timelines.get(next)
      const after = (xs) => xs.find((x) => x >= t0)
      const since = (x) => (x === undefined ? undefined : x - t0)
      steps.push({
        routeLostMs: since(events.find((e) => e.type === 'active-lost' && e.at >= t0)?.at),
        wasmRequestedMs: since(after(tl.wasmRequested)),
        wasmFetchedMs: since(after(tl.wasmDone)),
        openedMs: since(tl.workerLog.find((l) => l.at >= t0 && l.text.includes('opened the database'))?.at),
        newRouteMs: since(events.find((e) => e.type === 'active-changed' && e.at >= t0)?.at),
        answeredMs: at - t0,
        reason: events.find((e) => e.type === 'active-changed' && e.at >= t0)?.reason,
      })
    } catch (error) {
      log(`failover timeline unavailable: ${error.message.split('\n')[0]}`)
    }
    for (const p of tabs) if (!p.isClosed()) await p.close()
  }
  const stepMedian = (k) => {
    const xs = steps.map((s) => s[k]).filter((x) => typeof x === 'number')
    return xs.length ? median(xs) : undefined
  }
  const result = {
    options,
    runs: all.length,
    p50Ms: median(all),
    p95Ms: pct(all, 95),
    maxMs: Math.max(...all),
    allMs: all,
    timelineMedianMs: Object.fromEntries(
      ['routeLostMs', 'wasmRequestedMs', 'wasmFetchedMs', 'openedMs', 'newRouteMs', 'answeredMs'].map((k) => [k, stepMedian(k)]),
    ),
    timeline: steps,
  }
  log(
    `failover${warm ? ' (warm standby)' : ''}: ${all.length} runs, p50 ${all.length ? median(all) : '-'} ms, p95 ${all.length ? pct(all, 95) : '-'} ms`,
  )
  return result
}

// ---- targets ---------------------------------------------------------------------------------

function evaluateTargets() {
  const T = results.targets
  const w = results.workloads
  const m = (wid, cid) => w[wid]?.results[cid]?.metricMs
  const ratio = (wid, cid) => w[wid]?.results[cid]?.ratio
  const add = (name, measured, limit, met, by, why) =>
    T.push({ name, measured, limit, met, by, ...(met === false && why ? { why } : {}) })
  const vsRatio = (name, wid, cid, limit) => {
    const r = ratio(wid, cid)
    if (r === undefined) return
    add(
      name,
      `${fmtRatio(r)} (${fmtMs(m(wid, cid))} vs raw ${fmtMs(m(wid, 'raw'))})`,
      `<= ${limit}x raw`,
      r <= limit,
      r <= limit ? `${((1 - r / limit) * 100).toFixed(0)}% under` : `${((r / limit - 1) * 100).toFixed(0)}% over`,
      whyRatio(wid, cid, limit),
    )
  }
  const absolute = (name, value, limit, strict = false, why) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return
    const met = strict ? value < limit : value <= limit
    add(
      name,
      fmtMs(value),
      `${strict ? '<' : '<='} ${fmtMs(limit)}`,
      met,
      met ? `${fmtMs(limit - value)} to spare` : `${fmtMs(value - limit)} over (${(value / limit).toFixed(2)}x)`,
      why,
    )
  }
  // Why a ratio target is missed: where the floors measured in this same run already stand
  // against the limit, and how far above its floor this dialect is.
  const whyRatio = (wid, cid, limit) => {
    const res = w[wid]?.results[cid]
    const kysely = ratio(wid, 'rawKysely')
    if (!res || kysely === undefined) return undefined
    const room = (floor) => (floor >= limit ? 'already over the limit' : `${((limit / floor - 1) * 100).toFixed(0)}% under it`)
    const parts = [
      `row 3 (raw + minimal Kysely: Kysely's own cost, the floor for any Kysely dialect) is ${fmtRatio(kysely)} raw, ${room(kysely)}`,
    ]
    const follower = ratio(wid, 'rawFollower')
    if (cid.includes('Follower') && follower !== undefined) {
      parts.push(
        `row 4 (raw from a second tab over a port: the cross-tab hop, no Kysely) is ${fmtRatio(follower)} raw, ${room(follower)}`,
      )
      parts.push(
        `this dialect is ${fmtRatio(res.ratioToFollowerFloor)} row 4 and ${fmtRatio(res.ratioToRawKysely)} row 3: it pays both, Kysely and the hop`,
      )
    } else {
      parts.push(
        `this dialect is ${fmtRatio(res.ratioToRawKysely)} row 3: its own per-statement work (a lease per Kysely scope, the router, the worker's checks, metrics; see the breakdown)`,
      )
    }
    return parts.join('; ')
  }
  const whyFailover = (f) => {
    const t = f?.timelineMedianMs
    if (!t || t.openedMs === undefined) return undefined
    const ready = t.wasmFetchedMs ?? t.routeLostMs
    return (
      `median timeline after the active tab's page.close(): the others hear it +${t.routeLostMs} ms (the browser ends the page and frees its lock)` +
      (t.wasmFetchedMs === undefined ? '' : `; the new active's worker has fetched SQLite's wasm +${t.wasmFetchedMs} ms`) +
      `; it has compiled it, opened the OPFS files and the database +${t.openedMs} ms (${ready === undefined ? '?' : t.openedMs - ready} ms of it after the wasm arrived)` +
      `; first answer +${t.answeredMs} ms. The opt-in warmStandby loads and compiles the wasm in one follower ahead (see its row)`
    )
  }
  for (const [tabs, a, f] of [
    ['2 tabs', 'mt2Active', 'mt2Follower'],
    ['4 tabs', 'mt4Active', 'mt4Follower'],
  ]) {
    for (const wid of ['w1-select1', 'w1-point', 'w1-select1-hot', 'w1-point-hot'])
      vsRatio(`active (${tabs}) ${w[wid]?.short}`, wid, a, 1.25)
    absolute(`active (${tabs}) W2 ${CFG.w2Rows} inserts`, m('w2-inserts', a), 6000)
    vsRatio(`active (${tabs}) W3`, 'w3-batches', a, 2)
    for (const wid of ['w1-select1', 'w1-point', 'w1-select1-hot', 'w1-point-hot'])
      vsRatio(`follower (${tabs}) ${w[wid]?.short}`, wid, f, 2)
    absolute(`follower (${tabs}) W2 ${CFG.w2Rows} inserts`, m('w2-inserts', f), 10_000)
    vsRatio(`follower (${tabs}) W3`, 'w3-batches', f, 2.2)
  }
  if (CFG.w2Rows !== 20_000)
    T.push({ name: `note: W2 ran ${CFG.w2Rows} rows, the W2 limits are for 20,000`, measured: '', limit: '' })
  if (results.failover?.runs) {
    absolute('failover p50', results.failover.p50Ms, 100, true, whyFailover(results.failover))
    absolute('failover p95', results.failover.p95Ms, 250, true, whyFailover(results.failover))
  }
  if (results.failoverWarm?.runs) {
    absolute('failover p50, warmStandby: true', results.failoverWarm.p50Ms, 100, true, whyFailover(results.failoverWarm))
    absolute('failover p95, warmStandby: true', results.failoverWarm.p95Ms, 250, true, whyFailover(results.failoverWarm))
  }
  const mtOpen = results.open?.rows.find((r) => r.kind === 'mt')
  if (mtOpen) {
    absolute('open + first query (new database), median', mtOpen.firstMs, 250)
    absolute('a follower joins (to first answer), median', mtOpen.secondMs, 100)
  }
  const followerTabs = results.heap?.filter((h) => h.label.includes('follower')) ?? []
  if (followerTabs.length || results.open?.followerWasm) {
    const fetched = [...followerTabs.flatMap((h) => h.wasm), ...(results.open?.followerWasm ?? [])]
    add(
      'a follower tab that is not active loads no wasm',
      fetched.length ? fetched.join(', ') : 'no wasm fetched',
      'none',
      fetched.length === 0,
    )
  }
  // Peers: every workload, lower is better (mixed: higher throughput is better).
  const compare = (who, cid, peer, peerLabel, strict) => {
    for (const [wid, wl] of Object.entries(w)) {
      const ours = m(wid, cid)
      const theirs = m(wid, peer)
      if (ours === undefined || theirs === undefined) continue
      const met = strict ? ours < theirs : ours <= theirs
      add(
        `${who} vs ${peerLabel}: ${wl.short}`,
        `${fmtMs(ours)} vs ${fmtMs(theirs)}`,
        strict ? 'faster' : 'at least as fast',
        met,
        `${(ours / theirs).toFixed(2)}x`,
      )
    }
  }
  compare('active (2 tabs)', 'mt2Active', 'kww', 'kysely-wasqlite-worker', false)
  compare('active (2 tabs)', 'mt2Active', 'sqlocal', 'SQLocal', true)
  compare('follower (2 tabs)', 'mt2Follower', 'sqlocal', 'SQLocal', true)
  const openRow = (k) => results.open?.rows.find((r) => r.kind === k)
  if (openRow('mt')) {
    for (const [peer, label] of [
      ['kww', 'kysely-wasqlite-worker'],
      ['sqlocal', 'SQLocal'],
    ]) {
      const ours = openRow('mt').firstMs
      const theirs = openRow(peer).firstMs
      add(
        `active vs ${label}: W5 open to first answer`,
        `${fmtMs(ours)} vs ${fmtMs(theirs)}`,
        peer === 'kww' ? 'at least as fast' : 'faster',
        peer === 'kww' ? ours <= theirs : ours < theirs,
        `${(ours / theirs).toFixed(2)}x`,
      )
      const f = openRow('mt').secondMs
      const g = openRow(peer).secondMs
      if (peer === 'sqlocal')
        add(
          `follower vs ${label}: W5 second tab to first answer`,
          `${fmtMs(f)} vs ${fmtMs(g)}`,
          'faster',
          f < g,
          `${(f / g).toFixed(2)}x`,
        )
    }
  }
  const mix = (k) => results.mixed?.rows.find((r) => r.kind === k)
  if (mix('mt')) {
    for (const [peer, label, strict] of [
      ['kww', 'kysely-wasqlite-worker', false],
      ['sqlocal', 'SQLocal', true],
    ]) {
      const ours = mix('mt').opsPerS
      const theirs = mix(peer).opsPerS
      add(
        `3 tabs mixed vs ${label}: throughput`,
        `${Math.round(ours)} vs ${Math.round(theirs)} ops/s`,
        strict ? 'higher' : 'at least as high',
        strict ? ours > theirs : ours >= theirs,
        `${(ours / Math.max(theirs, 1e-9)).toFixed(2)}x`,
      )
    }
  }
}

// ---- console output --------------------------------------------------------------------------

function printAll() {
  const pad = (s, n) => String(s).padEnd(n)
  const lpad = (s, n) => String(s).padStart(n)
  console.log(`\n== kysely-multitab-opfs bench (${results.meta.browser}, ${results.meta.profile}) ==`)
  if (Object.keys(results.workloads).length) {
    const ws = Object.values(results.workloads)
    const matrix = (title, cell, filter = () => true) => {
      console.log(`\n${title}`)
      console.log(pad('contender', 32) + ws.map((w) => lpad(w.short, 18)).join(''))
      for (const c of results.contenders.filter(filter))
        console.log(pad(c.label, 32) + ws.map((w) => lpad(w.results[c.id] ? cell(w.results[c.id]) : '', 18)).join(''))
    }
    matrix(
      `Median (W1: per call, blocks of ${CFG.w1Calls}; W4: per select of 10k rows; W2/W3: whole workload; ${CFG.rounds} rounds) and ratio to raw`,
      (r) => `${fmtMs(r.metricMs)} ${fmtRatio(r.ratio)}`,
    )
    matrix(
      'p95 per call (all calls of all rounds: W1 a statement, W4 a select of 10k rows, W3 a 500-row insert, W2 a 1-row insert)',
      (r) => fmtMs(r.p95Ms),
    )
    matrix(
      'This dialect against row 3 (raw + minimal Kysely: the same Kysely work) and, for followers, against row 4 (raw floor for a follower)',
      (r) =>
        r.ratioToRawKysely === undefined
          ? ''
          : `${fmtRatio(r.ratioToRawKysely)}${r.ratioToFollowerFloor === undefined ? '' : ` / ${fmtRatio(r.ratioToFollowerFloor)}`}`,
      (c) => c.group === 'dialect',
    )
  }
  if (results.breakdown) {
    console.log(
      '\nBreakdown (ms per statement): select 1 | point | 1-row insert in a transaction | 500-row insert in a transaction | autocommit 1-row insert',
    )
    for (const r of results.breakdown.rows)
      console.log(
        pad(r.label.slice(0, 92), 94) +
          [r.select1, r.point, r.insert, r.batch, r.autocommit].map((x) => lpad(fmtMs(x), 11)).join(''),
      )
    for (const n of results.breakdown.notes) console.log(`  - ${n}`)
  }
  if (results.open) {
    console.log('\nW5 open to first answer (median / p95 of', CFG.openRounds, 'runs): first tab | second tab')
    for (const r of results.open.rows)
      console.log(
        pad(r.label, 32) +
          lpad(`${fmtMs(r.firstMs)} / ${fmtMs(r.firstP95Ms)}`, 24) +
          lpad(`${fmtMs(r.secondMs)} / ${fmtMs(r.secondP95Ms)}`, 24) +
          `  (${r.second})`,
      )
  }
  if (results.mixed) {
    console.log(
      `\nMixed read/write, 3 tabs at once, ${CFG.mixedMs} ms x ${CFG.mixedRounds} rounds (median ops/s; p50/p95 per op; errors)`,
    )
    for (const r of results.mixed.rows)
      console.log(
        pad(r.label, 44) +
          lpad(`${Math.round(r.opsPerS)} ops/s`, 12) +
          lpad(`${fmtMs(r.p50Ms)} / ${fmtMs(r.p95Ms)}`, 22) +
          lpad(`${r.errors} err`, 9) +
          (r.firstError ? `  ${r.firstError.slice(0, 80)}` : ''),
      )
  }
  for (const [f, what] of [
    [results.failover, 'default options'],
    [results.failoverWarm, 'warmStandby: true'],
  ]) {
    if (!f) continue
    console.log(`\nFailover, ${what} (${f.runs} runs): p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, max ${f.maxMs} ms`)
    const t = f.timelineMedianMs ?? {}
    console.log(
      `  median timeline from page.close(): survivor told the active tab is gone +${t.routeLostMs} ms; new active's worker requests the wasm +${t.wasmRequestedMs ?? '- (already loaded)'} ms, has it +${t.wasmFetchedMs ?? '-'} ms; logs 'opened the database' +${t.openedMs} ms; survivor gets the new route +${t.newRouteMs} ms; first answer +${t.answeredMs} ms`,
    )
  }
  if (results.background) {
    console.log('')
    for (const s of results.background.switches)
      console.log(`Tab switches: ${s.switches}, ${s.dwellMs} ms on each tab -> ${s.handoffs} hand-offs (hiddenHandoffMs 2000)`)
    for (const f of results.background.frozen ?? [])
      console.log(
        `Active tab frozen, ${f.rows} rows of 1 KB, ${f.coordinator ?? 'shared-worker'} coordinator: another tab's insert answered after p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, max ${f.maxMs} ms (${f.runs} runs; hangTimeoutMs ${f.hangTimeoutMs})`,
      )
  }
  if (results.heap) {
    console.log('\nJS heap after GC (CDP Runtime.getHeapUsage): page | workers | wasm fetched')
    for (const h of results.heap)
      console.log(
        pad(h.label, 36) +
          lpad(`${h.pageHeapMB.toFixed(2)} MB`, 10) +
          '  ' +
          pad(h.workers.map((w) => `${w.url.split('/').pop()} ${w.usedMB.toFixed(2)} MB`).join(', '), 60) +
          (h.wasm.join(', ') || 'no wasm'),
      )
  }
  if (results.storage) {
    console.log('\nWhere the data lives:')
    for (const s of results.storage)
      console.log(
        `  ${pad(s.label, 24)} OPFS ${s.opfsFiles} (${s.opfsBytes} B in all); IndexedDB: ${s.indexedDb.join(', ') || 'none'}; cross-origin isolated: ${s.crossOriginIsolated}; ${s.pragmas}${s.note ? `; ${s.note}` : ''}`,
      )
  }
  console.log('\nTargets:')
  for (const t of results.targets) {
    const verdict = t.met === undefined ? '' : t.met ? 'MET   ' : 'MISSED'
    console.log(`  ${pad(verdict, 7)}${pad(t.name, 58)} ${pad(t.measured, 38)} ${pad(t.limit, 18)} ${t.by ?? ''}`)
    if (t.why) console.log(`${' '.repeat(9)}why: ${t.why}`)
  }
  console.log('')
}

await main()
