// The live demo: every tab of this page shares one SQLite database. The page shows this tab's role,
// every open tab, a log of hand-offs, this tab's metrics, and a todo list (the migrations example's
// schema, migrated with Kysely's Migrator) where a change made in one tab shows up in the others.
import { Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { BrowserMigrationProvider, MultiTabOpfsDialect } from '/dist/index.js'
import { migrations } from '/migrations-example/migrations/index.js'

const POLL_MS = 500
const SPARK_WINDOW_MS = 60_000
const LOG_LIMIT = 200

// A database of its own, so the demo never meets another app's schema. `?db=name` picks another
// one (the e2e test uses a fresh name per run, so runs never share data).
const filename = new URLSearchParams(location.search).get('db') ?? 'demo-todos.db'
const dialect = new MultiTabOpfsDialect({ filename })
const db = new Kysely({ dialect })

/** Why the role moved, in words (the library's `reason`). */
const REASONS = {
  elected: 'The first tab to open the database.',
  closed: 'The active tab closed the database.',
  crashed: 'The active tab went away without closing the database: the tab was closed, crashed or killed.',
  hung: 'The active tab stopped answering and was fenced off.',
  manual: 'A tab asked for it: “Make this tab active” or “Step down”.',
  failed: 'The elected tab could not open the database.',
  hidden: 'The active tab was in the background: the role moved to the tab in front.',
}
const ROLE_TEXT = { active: 'Active', follower: 'Follower', electing: 'Electing', closed: 'Closed', starting: 'Starting' }

const state = {
  /** The latest dialect.status(), and the number of the call that produced it. */
  status: undefined,
  statusSeq: 0,
  statusApplied: 0,
  /** Tab ids seen in the latest roster, to log tabs opening and leaving. */
  knownTabs: undefined,
  /** A hand-off this tab asked for is under way. */
  busy: false,
  ready: false,
  todosKey: undefined,
  todoIds: new Set(),
  /** Latency of each refresh query: { at, ms, active }. */
  samples: [],
  /** When this tab saw a hand-off complete (performance.now()). */
  handoffs: [],
  lastError: { text: '', at: 0 },
}

// ---- small DOM helpers -------------------------------------------------------------------------

const $ = (id) => document.getElementById(id)

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false))
  return node
}

const short = (id) => (id ? id.slice(0, 4).toUpperCase() : '—')
const hue = (id) => (id ? parseInt(id.replace(/-/g, '').slice(0, 6), 16) % 360 : 220)
const isMe = (id) => id !== undefined && id === state.status?.tabId

/** A tab, as a coloured chip: the same colour in every tab, so tabs are easy to tell apart. */
function chip(id) {
  const node = el('span', { className: `chip${isMe(id) ? ' me' : ''}` }, `tab ${short(id)}`)
  node.style.setProperty('--h', String(hue(id)))
  if (isMe(id)) node.append(el('em', {}, ' (this tab)'))
  if (id) node.title = id
  return node
}

const reasonBadge = (reason) => el('span', { className: `reason r-${reason}`, title: REASONS[reason] ?? '' }, reason)
const ms = (value) => (value >= 10 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`)

function log(kind, parts, data = {}) {
  const time = new Date().toLocaleTimeString([], { hour12: false })
  const item = el(
    'li',
    { className: `k-${kind}` },
    el('time', {}, time),
    el(
      'span',
      { className: 'tag' },
      { handoff: 'hand-off', lost: 'lost', tabs: 'tabs', app: 'app', error: 'error', info: 'info' }[kind],
    ),
    el('span', { className: 'text' }, parts),
  )
  item.dataset.kind = kind
  for (const [key, value] of Object.entries(data)) if (value !== undefined) item.dataset[key] = String(value)
  $('log').prepend(item)
  while ($('log').children.length > LOG_LIMIT) $('log').lastElementChild.remove()
}

/** Logs a failed call, once per distinct message every few seconds (polling would repeat it). */
function reportError(what, error) {
  const text = `${what}: ${error?.name ?? 'Error'}: ${error?.message ?? error}`
  const now = performance.now()
  if (text === state.lastError.text && now - state.lastError.at < 5000) return
  state.lastError = { text, at: now }
  const hint =
    error?.name === 'WriteOutcomeUnknownError'
      ? ' (the active tab went away mid-write: it may or may not have been saved)'
      : error?.retryable
        ? ' (retryable)'
        : ''
  log('error', `${text}${hint}`)
}

// ---- events: what this tab sees of elections ---------------------------------------------------

// Subscribed before the first query, so the first election is seen too.
dialect.on('active-lost', (event) => {
  const what =
    event.reason === 'manual' ? ' is handing the database over ' : event.reason === 'hung' ? ' stopped answering ' : ' went away '
  log(
    'lost',
    ['Active ', chip(event.previousActiveTabId), what, reasonBadge(event.reason), ' — queries wait for the next active tab'],
    {
      reason: event.reason,
      from: event.previousActiveTabId,
    },
  )
  void refreshStatus()
})

dialect.on('active-changed', (event) => {
  const data = { reason: event.reason, from: event.previousActiveTabId, to: event.activeTabId, epoch: event.epoch }
  if (event.previousActiveTabId === undefined) {
    log('handoff', [chip(event.activeTabId), ' is active ', reasonBadge(event.reason)], data)
  } else {
    state.handoffs.push(performance.now())
    log(
      'handoff',
      [
        chip(event.previousActiveTabId),
        ' → ',
        chip(event.activeTabId),
        ' ',
        reasonBadge(event.reason),
        event.handoffMs ? ` in ${event.handoffMs} ms` : '',
        el('small', {}, REASONS[event.reason] ?? ''),
      ],
      data,
    )
  }
  void refreshStatus()
})

// ---- status: this tab, every tab ---------------------------------------------------------------

async function refreshStatus() {
  const seq = ++state.statusSeq
  const s = await dialect.status()
  // Calls overlap (polling and events): only the newest one is shown.
  if (seq < state.statusApplied) return
  state.statusApplied = seq
  state.status = s
  renderStatus(s)
  trackRoster(s)
}

function renderStatus(s) {
  const role = s.role
  document.body.dataset.role = role
  $('role').textContent = ROLE_TEXT[role] ?? role
  const others = Math.max(0, s.tabs.length - 1)
  $('role-line').replaceChildren(
    ...(role === 'active'
      ? [
          `This tab's worker holds the database. ${others === 0 ? 'No other tab is open yet: open one!' : others === 1 ? '1 other tab sends its queries here.' : `${others} other tabs send their queries here.`}`,
        ]
      : role === 'follower'
        ? ['Queries from this tab go to ', chip(s.activeTabId), ', which holds the database.']
        : role === 'electing'
          ? ['Waiting for a tab to open the database…']
          : ['This tab has left the database.']),
  )
  $('tab-id').replaceWith(Object.assign(chip(s.tabId), { id: 'tab-id' }))
  $('active-id').replaceChildren(s.activeTabId ? chip(s.activeTabId) : '—')
  $('coordinator').replaceChildren(s.coordinator === 'shared-worker' ? 'SharedWorker ' : '', el('code', {}, s.coordinator))
  $('storage').replaceChildren(s.storage === 'opfs-sahpool' ? 'OPFS, access-handle pool ' : '', el('code', {}, s.storage))
  $('epoch').replaceChildren(s.epoch ? el('code', {}, String(s.epoch)) : '—')
  renderTabs(s)
  renderButtons()

  // The browser's tab strip shows which tab is active too.
  document.title = `${role === 'active' ? '● Active' : role === 'follower' ? '○ Follower' : '… Electing'} · tab ${short(s.tabId)} — shared SQLite`
  const color = role === 'active' ? '#11875a' : role === 'follower' ? '#2f5fd0' : '#c98a0c'
  const svg =
    role === 'active'
      ? `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${color}"/></svg>`
      : `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="5.5" fill="none" stroke="${color}" stroke-width="3"/></svg>`
  const href = `data:image/svg+xml,${encodeURIComponent(svg)}`
  if ($('favicon').getAttribute('href') !== href) $('favicon').setAttribute('href', href)
}

function renderTabs(s) {
  const tabs = s.tabs.length ? s.tabs : [s.tabId]
  const next = tabs.length > 1 ? tabs.find((id) => id !== s.activeTabId) : undefined
  $('tab-count').textContent = String(tabs.length)
  $('tabs').replaceChildren(
    ...tabs.map((id) => {
      const active = id === s.activeTabId
      const badge = active
        ? el('span', { className: 'badge b-active' }, 'active · holds the database')
        : id === next
          ? el('span', { className: 'badge b-next' }, 'follower · next in line')
          : el('span', { className: 'badge b-follower' }, 'follower')
      const item = el('li', { className: `${active ? 'is-active' : ''}${isMe(id) ? ' is-me' : ''}` }, chip(id), badge)
      item.dataset.tabId = id
      return item
    }),
  )
}

function trackRoster(s) {
  if (!s.tabs.length) return
  const now = new Set(s.tabs)
  if (!state.knownTabs) {
    log('tabs', [`${now.size} tab${now.size === 1 ? '' : 's'} open, this one is `, chip(s.tabId)])
  } else {
    for (const id of now) if (!state.knownTabs.has(id)) log('tabs', [chip(id), ' opened'], { joined: id })
    for (const id of state.knownTabs) if (!now.has(id)) log('tabs', [chip(id), ' left'], { left: id })
  }
  state.knownTabs = now
}

function renderButtons() {
  const s = state.status
  const role = s?.role
  $('claim').disabled = state.busy || role !== 'follower'
  $('step-down').disabled = state.busy || role !== 'active' || (s?.tabs.length ?? 0) < 2
  $('step-down').title =
    role === 'active' && (s?.tabs.length ?? 0) < 2 ? 'Open another tab first: there is no one to hand the role to' : ''
}

async function handOff(label, action) {
  state.busy = true
  renderButtons()
  const started = performance.now()
  try {
    const activeTabId = await action()
    log('app', [`${label}: `, chip(activeTabId), ` is active, ${ms(performance.now() - started)} after asking`])
  } catch (error) {
    reportError(label, error)
  } finally {
    state.busy = false
    await refreshStatus().catch((error) => reportError('status', error))
  }
}

$('claim').addEventListener('click', () => handOff('Make this tab active', () => dialect.requestActive()))
$('step-down').addEventListener('click', () => handOff('Step down', () => dialect.stepDown()))

// ---- the todo list -----------------------------------------------------------------------------

// The list is a watched query: it re-runs whenever any tab commits a change to `todo`, and after
// a hand-off. A light query every POLL_MS feeds the latency chart below.
const todoQuery = () => db.selectFrom('todo').select(['id', 'title', 'done', 'created_at']).orderBy('id')

function showTodos(todos) {
  const key = JSON.stringify(todos)
  if (key !== state.todosKey) {
    state.todosKey = key
    renderTodos(todos)
  }
}

async function refreshTodos() {
  showTodos(await todoQuery().execute())
}

async function sampleLatency() {
  const started = performance.now()
  await db
    .selectFrom('todo')
    .select((eb) => eb.fn.countAll().as('n'))
    .execute()
  state.samples.push({ at: performance.now(), ms: performance.now() - started, active: state.status?.role === 'active' })
}

function renderTodos(todos) {
  const seen = state.todoIds
  const first = seen.size === 0
  $('list').replaceChildren(
    ...todos.map((todo) => {
      const box = el('input', { type: 'checkbox', checked: !!todo.done })
      box.setAttribute('aria-label', `done: ${todo.title}`)
      box.addEventListener('change', () => toggle(todo.id, box.checked))
      const added = todo.created_at && !todo.created_at.startsWith('1970') ? new Date(todo.created_at) : undefined
      const item = el(
        'li',
        { className: `${todo.done ? 'done' : ''}${!first && !seen.has(todo.id) ? ' fresh' : ''}` },
        el('label', {}, box, el('span', { className: 'title' }, todo.title)),
        added
          ? el(
              'time',
              { dateTime: todo.created_at },
              added.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false }),
            )
          : undefined,
      )
      item.dataset.id = String(todo.id)
      return item
    }),
  )
  state.todoIds = new Set(todos.map((t) => t.id))
  const open = todos.filter((t) => !t.done).length
  $('todo-note').textContent = `${open} open · ${todos.length - open} done · changes show up in every tab`
  $('empty').hidden = todos.length > 0
}

async function toggle(id, done) {
  try {
    await db
      .updateTable('todo')
      .set({ done: done ? 1 : 0 })
      .where('id', '=', id)
      .execute()
  } catch (error) {
    reportError('toggle', error)
  }
  await refreshTodos().catch((error) => reportError('refresh', error))
}

$('add').addEventListener('submit', async (event) => {
  event.preventDefault()
  const title = $('title').value.trim()
  if (!title || !state.ready) return
  $('add-button').disabled = true
  try {
    await db
      .insertInto('todo')
      .values({ title, search: `${title.toLowerCase()} #todo`, created_at: new Date().toISOString() })
      .execute()
    $('title').value = ''
    log('app', `Added “${title}”`)
  } catch (error) {
    reportError('add', error)
  } finally {
    $('add-button').disabled = false
  }
  await refreshTodos().catch((error) => reportError('refresh', error))
})

// ---- metrics -----------------------------------------------------------------------------------

function renderMetrics() {
  const m = dialect.metrics()
  for (const side of ['follower', 'active']) {
    const l = m.latencyMs[side]
    $(`lat-${side}`).textContent = l.count ? ms(l.p50) : '—'
    $(`lat-${side}-sub`).textContent = l.count
      ? `p50 · p95 ${ms(l.p95)} · max ${ms(l.max)} · ${l.count} queries`
      : `no queries as ${side} yet`
  }
  const last = m.handoffs.durationsMs.at(-1)
  $('handoff-last').textContent = last === undefined ? '—' : ms(last)
  $('handoff-count').textContent = m.handoffs.count
    ? `${m.handoffs.count} hand-off${m.handoffs.count === 1 ? '' : 's'} seen by this tab`
    : 'none seen yet'
  $('queries').textContent = String(m.queries)
  const errors = Object.values(m.errors).reduce((a, b) => a + b, 0)
  $('queries-sub').textContent = `${m.inFlight} in flight · ${m.waiting} waiting${errors ? ` · ${errors} failed` : ''}`
  drawSpark()
}

function drawSpark() {
  const canvas = $('spark')
  const ratio = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  if (!width || !height) return
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio)
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio)
  const g = canvas.getContext('2d')
  g.setTransform(ratio, 0, 0, ratio, 0, 0)
  g.clearRect(0, 0, width, height)

  const now = performance.now()
  const from = now - SPARK_WINDOW_MS
  state.samples = state.samples.filter((s) => s.at >= from - POLL_MS * 2)
  state.handoffs = state.handoffs.filter((t) => t >= from)
  const top = 16
  const bottom = height - 4
  const peak = Math.max(2, ...state.samples.map((s) => s.ms)) * 1.1
  const x = (at) => ((at - from) / SPARK_WINDOW_MS) * width
  const y = (value) => bottom - (value / peak) * (bottom - top)

  g.strokeStyle = '#e6e9f2'
  g.lineWidth = 1
  for (const f of [0, 0.5, 1]) {
    g.beginPath()
    g.moveTo(0, Math.round(y((peak * f) / 1.1)) + 0.5)
    g.lineTo(width, Math.round(y((peak * f) / 1.1)) + 0.5)
    g.stroke()
  }
  g.strokeStyle = '#d9921a'
  g.setLineDash([3, 3])
  for (const at of state.handoffs) {
    g.beginPath()
    g.moveTo(Math.round(x(at)) + 0.5, top - 6)
    g.lineTo(Math.round(x(at)) + 0.5, bottom)
    g.stroke()
  }
  g.setLineDash([])
  g.lineWidth = 2
  g.lineJoin = 'round'
  for (let i = 1; i < state.samples.length; i++) {
    const a = state.samples[i - 1]
    const b = state.samples[i]
    g.strokeStyle = b.active ? '#11875a' : '#2f5fd0'
    g.beginPath()
    g.moveTo(x(a.at), y(a.ms))
    g.lineTo(x(b.at), y(b.ms))
    g.stroke()
  }
  const last = state.samples.at(-1)
  if (last) {
    g.fillStyle = last.active ? '#11875a' : '#2f5fd0'
    g.beginPath()
    g.arc(x(last.at), y(last.ms), 3, 0, Math.PI * 2)
    g.fill()
  }
  g.fillStyle = '#8a91a5'
  g.font = '11px system-ui, sans-serif'
  g.fillText(`${ms(peak / 1.1)}`, 4, 11)
}

// ---- start -------------------------------------------------------------------------------------

/** Runs `fn` now and then every `interval` ms after it settles (never two at once). */
function every(interval, what, fn) {
  const run = async () => {
    try {
      await fn()
    } catch (error) {
      reportError(what, error)
    }
    setTimeout(run, interval)
  }
  void run()
}

$('filename').textContent = filename
$('open-tab').href = location.href
window.demo = { db, dialect, ready: false }
every(POLL_MS, 'status', refreshStatus)
every(POLL_MS, 'metrics', renderMetrics)
addEventListener('resize', drawSpark)
// Browsers slow timers down in background tabs: catch up as soon as this one is shown again.
document.addEventListener('visibilitychange', () => {
  if (document.hidden) return
  refreshStatus().catch((error) => reportError('status', error))
  if (state.ready) refreshTodos().catch((error) => reportError('refresh', error))
})

// Every tab runs the migrations at start-up; the Migrator's lock (a transaction on the shared
// database) makes sure each one runs once, in whichever tab gets there first.
const migrator = new Migrator({ db, provider: new BrowserMigrationProvider(migrations) })
const { error, results = [] } = await migrator.migrateToLatest()
if (error) {
  $('schema').textContent = `Migrations failed: ${error.name}: ${error.message}`
  $('schema').classList.add('failed')
  log('error', `Migrations failed: ${error.name}: ${error.message}`)
  // E.g. StorageUnavailableError: no OPFS or SharedWorker here (the page needs https or localhost).
  if (!state.status) $('role-line').textContent = `${error.name}: ${error.message}`
} else {
  const ran = results.filter((r) => r.status === 'Success').map((r) => r.migrationName)
  $('schema').textContent = ran.length
    ? `Schema: this tab ran the migrations ${ran.join(', ')}.`
    : `Schema up to date: ${Object.keys(migrations).length} migrations, run by an earlier tab.`
  log('info', ran.length ? `Ran migrations ${ran.join(', ')}` : 'Schema already up to date')
  state.ready = true
  $('add-button').disabled = false
  dialect.watch(todoQuery(), showTodos, { onError: (e) => reportError('refresh', e) })
  every(POLL_MS, 'latency', sampleLatency)
  $('title').focus()
}
window.demo.ready = true
document.body.dataset.ready = error ? 'failed' : 'true'
