// Collects the page's events and prints: a line per test file as it completes, then every failure
// with its first error line, the exclusions, and last a line exactly like `N passed, M failed`.
//
// Counted as failed: failed tests, failed hooks, tests that never ran because a hook of theirs
// failed (or the browser run ended early), and test files that could not be loaded.

const short = (file) => (file ?? '?').replace(/\.test$/, '')

function firstLine(error) {
  const message =
    String(error?.message ?? '')
      .split('\n')
      .find((l) => l.trim()) ?? ''
  return `${error?.name ?? 'Error'}: ${message}`.trim()
}

export class Results {
  #plan = []
  #tests = new Map()
  #hooks = []
  #pending = []
  #excluded = []
  #loadErrors = []
  #unusedExclusions = []
  #console = []
  #currentFile
  #fileStarted = Date.now()
  #fileSeconds = new Map()
  #printed = new Set()
  #log

  constructor(log = console.log) {
    this.#log = log
  }

  onEvent(event) {
    switch (event.t) {
      case 'plan':
        this.#plan = event.tests
        this.#fileStarted = Date.now()
        break
      case 'file':
        this.#fileDone(this.#currentFile)
        this.#currentFile = event.file
        break
      case 'pass':
      case 'fail':
      case 'pending':
        this.#record(event)
        break
      case 'excluded':
        this.#excluded.push(event)
        break
      case 'probe-failed':
        this.#loadErrors.push({ file: '(probe)', error: event.error })
        this.#log(`The dialect could not run \`select 1\`, so the suite was not run: ${firstLine(event.error)}`)
        break
      case 'load-error':
        this.#loadErrors.push(event)
        this.#log(`  ${short(event.file).padEnd(36)} could not be loaded: ${firstLine(event.error)}`)
        break
      case 'unused-exclusion':
        this.#unusedExclusions.push(event.exclusion)
        break
      case 'end':
        this.#fileDone(this.#currentFile)
        break
    }
  }

  onConsole(type, text) {
    this.#console.push(`${type}: ${text}`)
  }

  get consoleLines() {
    return this.#console
  }

  #record(event) {
    if (event.t === 'pending') this.#pending.push(event)
    else if (event.type === 'hook') this.#hooks.push(event)
    else {
      const key = `${event.file}\0${event.title}`
      const previous = this.#tests.get(key)
      // A test that passed and then failed (an error after it ended) counts as failed.
      if (!previous || event.t === 'fail') this.#tests.set(key, event)
    }
  }

  #counts(file) {
    const of = (list) => list.filter((e) => file === undefined || e.file === file)
    const tests = of([...this.#tests.values()])
    const passed = tests.filter((e) => e.t === 'pass').length
    const failedTests = tests.filter((e) => e.t === 'fail').length
    const hooks = of(this.#hooks).length
    const notRun = of(this.#notRun()).length
    const loadErrors = of(this.#loadErrors).length
    return {
      passed,
      failed: failedTests + hooks + notRun + loadErrors,
      failedTests,
      hooks,
      notRun,
      loadErrors,
      pending: of(this.#pending).length,
      excluded: of(this.#excluded).length,
    }
  }

  #notRun() {
    return this.#plan.filter((t) => !this.#tests.has(`${t.file}\0${t.title}`))
  }

  #fileLine(file) {
    const c = this.#counts(file)
    const parts = [`${c.passed} passed`, `${c.failed} failed`]
    const took = this.#fileSeconds.get(file)
    if (c.hooks) parts.push(`${c.hooks} hook failure(s)`)
    if (c.notRun) parts.push(`${c.notRun} not run`)
    if (c.pending) parts.push(`${c.pending} pending`)
    if (c.excluded) parts.push(`${c.excluded} excluded`)
    return `  ${short(file).padEnd(36)} ${parts.join(', ')}${took === undefined ? '' : ` (${took.toFixed(1)} s)`}`
  }

  #fileDone(file) {
    if (file === undefined || this.#printed.has(file)) return
    this.#printed.add(file)
    this.#fileSeconds.set(file, (Date.now() - this.#fileStarted) / 1000)
    this.#fileStarted = Date.now()
    this.#log(this.#fileLine(file))
  }

  /** Prints the summary; returns the totals. */
  print({ ended, seconds, header, files: allFiles }) {
    const log = this.#log
    const files = [...new Set([...this.#plan, ...this.#tests.values(), ...this.#excluded].map((e) => e.file))].sort()
    log('')
    log(header)
    log('Per file:')
    for (const file of files) log(this.#fileLine(file))
    const empty = allFiles.filter((f) => !files.includes(f) && !this.#loadErrors.some((e) => e.file === f))
    if (empty.length) log(`  (no sqlite tests in: ${empty.map(short).join(', ')})`)

    const failures = [
      ...[...this.#tests.values()].filter((e) => e.t === 'fail').map((e) => [e.file, e.title, firstLine(e.error)]),
      ...this.#hooks.map((e) => [e.file, `(hook) ${e.title}`, firstLine(e.error)]),
      ...this.#loadErrors.map((e) => [e.file, '(file could not be loaded)', firstLine(e.error)]),
    ]
    const notRun = this.#notRun()
    if (failures.length || notRun.length) {
      log('')
      log(`Failures (${failures.length}):`)
      failures.forEach(([file, title, line], i) => log(`  ${i + 1}) [${short(file)}] ${title}\n       ${line}`))
      if (notRun.length) {
        const why = ended === 'end' ? 'a hook of their suite failed' : `the browser run ended early (${ended})`
        log(`Not run, counted as failed (${notRun.length}), because ${why}:`)
        for (const t of notRun) log(`  - [${short(t.file)}] ${t.title}`)
      }
    }
    if (this.#excluded.length) {
      log('')
      log(`Excluded (${this.#excluded.length}), see scripts/kysely-suite/exclusions.mjs:`)
      const byReason = new Map()
      for (const e of this.#excluded) byReason.set(e.reason, [...(byReason.get(e.reason) ?? []), e])
      for (const [reason, tests] of byReason) {
        for (const e of tests) log(`  - [${short(e.file)}] ${e.title}`)
        log(`      reason: ${reason}`)
      }
    }
    for (const e of this.#unusedExclusions) log(`warning: exclusion matched no test: [${e.file}] ${e.title}`)

    const c = this.#counts()
    log('')
    log(
      `Totals: ${c.passed} passed, ${c.failed} failed (${c.failedTests} tests, ${c.hooks} hooks, ` +
        `${c.notRun} not run, ${c.loadErrors} files not loaded), ${c.excluded} excluded, ${c.pending} pending; ` +
        `browser run: ${ended}, ${seconds.toFixed(1)} s`,
    )
    log(`${c.passed} passed, ${c.failed} failed`)
    return c
  }
}
