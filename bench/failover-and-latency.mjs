#!/usr/bin/env node
// Measures what issue 2 and 3 ask to report: point-select round trip and 10k inserts in one
// transaction from the active tab and from a follower, and failover time (active tab closed ->
// first query answered by another tab). Prints a table; saves bench/results/latency-failover.json.
import { chromium } from '@playwright/test'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { chromiumArgs } from '../scripts/chromium.mjs'

const PORT = Number(process.env.BENCH_PORT ?? 4199)
const base = `http://127.0.0.1:${PORT}`
const FAILOVER_RUNS = Number(process.env.FAILOVER_RUNS ?? 20)
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const args = chromiumArgs

const server = spawn(process.execPath, ['scripts/serve.mjs', '--port', String(PORT)], { stdio: 'ignore' })
await new Promise((r) => setTimeout(r, 500))
const browser = await chromium.launch({ executablePath, args })

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const median = (xs) => pct(xs, 50)

async function tab(context, filename) {
  const page = await context.newPage()
  await page.goto(`${base}/bench/pages/bench.html`)
  await page.waitForFunction(() => window.bench !== undefined)
  const openMs = await page.evaluate((f) => window.bench.open(f), filename)
  return { page, openMs }
}

const results = {}
try {
  // Latency and throughput, active vs follower, interleaved rounds.
  const context = await browser.newContext()
  const file = `bench-${Date.now()}.db`
  const active = await tab(context, file)
  const follower = await tab(context, file)
  await active.page.evaluate(() => window.bench.setup())
  const rounds = {
    activeSelect: [],
    followerSelect: [],
    activeSelectBlock: [],
    followerSelectBlock: [],
    activeInsert: [],
    followerInsert: [],
  }
  for (let r = 0; r < 3; r++) {
    for (const [name, t] of [
      ['active', active],
      ['follower', follower],
    ]) {
      const { total, each } = await t.page.evaluate(() => window.bench.pointSelects(500))
      rounds[`${name}Select`].push(...each)
      rounds[`${name}SelectBlock`].push(total / 500)
      rounds[`${name}Insert`].push(await t.page.evaluate(() => window.bench.insertsInTransaction(10_000)))
    }
  }
  results.pointSelect = {
    activeMedianMs: median(rounds.activeSelectBlock),
    followerMedianMs: median(rounds.followerSelectBlock),
    activeP95Ms: pct(rounds.activeSelect, 95),
    followerP95Ms: pct(rounds.followerSelect, 95),
  }
  results.inserts10kInOneTransaction = {
    activeMedianMs: median(rounds.activeInsert),
    followerMedianMs: median(rounds.followerInsert),
  }
  results.openToFirstAnswerMs = { firstTab: active.openMs, secondTab: follower.openMs }
  await context.close()

  // Failover: 3 tabs; close the active one; time until a survivor's query is answered.
  const failovers = []
  for (let run = 0; run < FAILOVER_RUNS; run++) {
    const ctx = await browser.newContext()
    const f = `failover-${run}-${Date.now()}.db`
    const tabs = [await tab(ctx, f), await tab(ctx, f), await tab(ctx, f)]
    const statuses = await Promise.all(tabs.map((t) => t.page.evaluate(() => window.bench.status())))
    const activeIndex = statuses.findIndex((s) => s.role === 'active')
    const formerId = statuses[activeIndex].tabId
    const survivor = tabs[(activeIndex + 1) % 3]
    const answered = survivor.page.evaluate((id) => window.bench.firstAnswerAfter(id), formerId)
    const t0 = Date.now()
    await tabs[activeIndex].page.close()
    failovers.push((await answered) - t0)
    await ctx.close()
  }
  results.failoverCloseMs = { runs: failovers.length, p50: median(failovers), p95: pct(failovers, 95), all: failovers }
} finally {
  await browser.close()
  server.kill()
}

const fmt = (x) => (typeof x === 'number' ? x.toFixed(2) : x)
console.log(
  'point select (ms/call, median of blocks of 500): active',
  fmt(results.pointSelect.activeMedianMs),
  'follower',
  fmt(results.pointSelect.followerMedianMs),
)
console.log(
  'point select p95 (ms): active',
  fmt(results.pointSelect.activeP95Ms),
  'follower',
  fmt(results.pointSelect.followerP95Ms),
)
console.log(
  '10k inserts in one transaction (ms, median of 3): active',
  fmt(results.inserts10kInOneTransaction.activeMedianMs),
  'follower',
  fmt(results.inserts10kInOneTransaction.followerMedianMs),
)
console.log(
  'open to first answer (ms): first tab',
  fmt(results.openToFirstAnswerMs.firstTab),
  'second tab',
  fmt(results.openToFirstAnswerMs.secondTab),
)
console.log(
  `failover on close (ms, ${results.failoverCloseMs.runs} runs): p50`,
  results.failoverCloseMs.p50,
  'p95',
  results.failoverCloseMs.p95,
)
await writeFile('bench/results/latency-failover.json', JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2))
