// Runs in the page: loads the bundled test files into mocha's browser build (one file at a time,
// so each suite knows its file), drops the excluded tests, runs, and reports every event to the
// Node side through window.__kyselySuiteReport (exposed by Playwright).
/* global mocha */

// As mocha's Node CLI does (lib/cli/cli.js), which Kysely's suite is run with: full stack traces.
Error.stackTraceLimit = Infinity

const manifest = await (await fetch('./manifest.json')).json()
const state = (globalThis.__kyselySuite = { runId: manifest.runId, currentFile: undefined, databases: [] })
const report = (event) => globalThis.__kyselySuiteReport(JSON.stringify(event))

function show(value) {
  try {
    const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))
    return text === undefined ? String(value) : text.slice(0, 4000)
  } catch {
    return String(value)
  }
}

function errorOf(error) {
  const e = error instanceof Error ? error : new Error(String(error))
  const out = { name: e.name, message: String(e.message ?? ''), stack: String(e.stack ?? '') }
  // chai's AssertionError: what was compared (kept in events.json with --keep).
  if ('actual' in e) out.actual = show(e.actual)
  if ('expected' in e) out.expected = show(e.expected)
  return out
}

function fileOf(runnable) {
  for (let r = runnable; r; r = r.parent) if (r.file) return r.file
  return undefined
}

function describeRunnable(runnable) {
  return { file: fileOf(runnable), title: runnable.fullTitle(), type: runnable.type }
}

// A reporter that only forwards: the Node side prints.
function ForwardingReporter(runner) {
  runner.on('suite', (suite) => {
    if (suite.file && suite.file !== state.currentFile) {
      state.currentFile = suite.file
      report({ t: 'file', file: suite.file })
    }
  })
  runner.on('pass', (test) => report({ t: 'pass', ...describeRunnable(test), ms: test.duration }))
  runner.on('fail', (runnable, error) => report({ t: 'fail', ...describeRunnable(runnable), error: errorOf(error) }))
  runner.on('pending', (test) => report({ t: 'pending', ...describeRunnable(test) }))
  runner.on('end', () => report({ t: 'end', databases: state.databases.length }))
}

// One query first: if the dialect cannot serve even that, say so instead of timing out in every file.
async function probe() {
  const [{ Kysely, sql }, { MultiTabOpfsDialect }] = await Promise.all([import('kysely'), import('kysely-multitab-opfs')])
  const db = new Kysely({
    dialect: new MultiTabOpfsDialect({ filename: `ks-${manifest.runId}-probe`, requestTimeoutMs: 20_000 }),
  })
  try {
    const { rows } = await sql`select 1 as one`.execute(db)
    if (rows[0]?.one !== 1) throw new Error(`select 1 returned ${JSON.stringify(rows)}`)
  } finally {
    await db.destroy()
  }
}
try {
  await probe()
} catch (error) {
  report({ t: 'probe-failed', error: errorOf(error) })
  throw error
}

mocha.setup({ ui: 'bdd', timeout: manifest.timeoutMs, reporter: ForwardingReporter, checkLeaks: false })

for (const file of manifest.files) {
  // What mocha does in Node before it requires a file: describe() and it() record `file`.
  mocha.suite.emit('pre-require', globalThis, file, mocha)
  try {
    await import(`./tests/${file}.js`)
  } catch (error) {
    report({ t: 'load-error', file, error: errorOf(error) })
  }
}

// Exclusions (see exclusions.mjs): removed before the run, reported as excluded.
const exclusions = manifest.exclusions
const used = new Set()
function excluded(test) {
  const file = fileOf(test)
  const title = test.fullTitle()
  return exclusions.findIndex(
    (e) =>
      `${e.file}.test` === file &&
      (e.title === '*' || e.title === title || (e.title.endsWith(' *') && title.startsWith(e.title.slice(0, -1)))),
  )
}
const planned = []
;(function walk(suite) {
  suite.tests = suite.tests.filter((test) => {
    const index = excluded(test)
    if (index >= 0) {
      used.add(index)
      report({ t: 'excluded', ...describeRunnable(test), reason: exclusions[index].reason })
      return false
    }
    if (!test.isPending()) planned.push(describeRunnable(test))
    return true
  })
  suite.suites.forEach(walk)
})(mocha.suite)
exclusions.forEach((e, i) => {
  if (!used.has(i) && manifest.files.includes(`${e.file}.test`)) report({ t: 'unused-exclusion', exclusion: e })
})
report({ t: 'plan', tests: planned })

mocha.run()
