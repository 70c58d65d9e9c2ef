// The demo app: a todo list on the shared database, and what each tab sees of the election.
import { Kysely, sql } from 'kysely'
import { MultiTabOpfsDialect } from '/dist/index.js'

const $ = (id) => document.getElementById(id)
const dialect = new MultiTabOpfsDialect({ filename: 'demo.db' })
const db = new Kysely({ dialect })

function log(text) {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`
  $('log').prepend(item)
}

async function timed(fn) {
  const start = performance.now()
  const result = await fn()
  $('latency').textContent = `${(performance.now() - start).toFixed(1)} ms`
  return result
}

let lastActive
async function showStatus() {
  const s = await dialect.status()
  $('tab-id').textContent = s.tabId.slice(0, 8)
  $('role').textContent = s.role
  $('role').className = `role ${s.role}`
  $('active-id').textContent = s.activeTabId?.slice(0, 8) ?? '—'
  $('coordinator').textContent = s.coordinator
  $('storage').textContent = s.storage
  $('epoch').textContent = String(s.epoch)
  if (s.activeTabId && s.activeTabId !== lastActive) {
    log(`active tab is now ${s.activeTabId.slice(0, 8)}${s.activeTabId === s.tabId ? ' (this tab)' : ''}`)
    lastActive = s.activeTabId
  }
}

async function showTodos() {
  const todos = await timed(() => db.selectFrom('todo').selectAll().orderBy('id').execute())
  $('list').replaceChildren(
    ...todos.map((t) => {
      const li = document.createElement('li')
      li.textContent = t.title
      const small = document.createElement('small')
      small.textContent = `added by ${t.tab.slice(0, 8)}`
      li.append(small)
      return li
    }),
  )
}

$('add').addEventListener('submit', async (event) => {
  event.preventDefault()
  const title = $('title').value.trim()
  if (!title) return
  const { tabId } = await dialect.status()
  await db.insertInto('todo').values({ title, tab: tabId }).execute()
  $('title').value = ''
  log(`added "${title}"`)
  await showTodos()
})

await sql`create table if not exists todo (id integer primary key, title text not null, tab text not null)`.execute(db)
log('database ready')
await showStatus()
await showTodos()
setInterval(() => {
  showStatus().catch((e) => log(`status: ${e.message}`))
  showTodos().catch((e) => log(`query: ${e.message}`))
}, 1000)
