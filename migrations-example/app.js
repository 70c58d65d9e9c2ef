// A todo list whose schema evolves with Kysely's Migrator, run at start-up in every tab.
// Ten tabs restored at once all call migrateToLatest(); each migration runs exactly once.
import { Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { BrowserMigrationProvider, MultiTabOpfsDialect } from 'kysely-multitab-opfs'
import { migrations } from './migrations/index.js'

const params = new URLSearchParams(location.search)
const filename = params.get('db') ?? 'todo-example.db'
// ?coordinator=web-locks tries the fallback coordinator (the e2e parity run uses it).
const coordinator = params.get('coordinator') ?? 'auto'
const dialect = new MultiTabOpfsDialect({ filename, coordinator })
const db = new Kysely({ dialect })
const migrator = new Migrator({ db, provider: new BrowserMigrationProvider(migrations) })

const $ = (id) => document.getElementById(id)

async function render() {
  const todos = await db.selectFrom('todo').selectAll().orderBy('id').execute()
  $('list').replaceChildren(
    ...todos.map((todo) => {
      const li = document.createElement('li')
      li.className = todo.done ? 'done' : ''
      const box = document.createElement('input')
      box.type = 'checkbox'
      box.checked = !!todo.done
      box.onchange = async () => {
        await db
          .updateTable('todo')
          .set({ done: box.checked ? 1 : 0 })
          .where('id', '=', todo.id)
          .execute()
        await render()
      }
      const span = document.createElement('span')
      span.textContent = ` ${todo.title}`
      li.append(box, span)
      return li
    }),
  )
}

$('add').addEventListener('submit', async (event) => {
  event.preventDefault()
  const title = $('title').value.trim()
  await db
    .insertInto('todo')
    .values({ title, search: `${title.toLowerCase()} #todo` })
    .execute()
  $('title').value = ''
  await render()
})

/**
 * Runs the pending migrations. If the active tab goes away mid-way, what it ran is rolled back and
 * the waiting tabs get a retryable error (ActiveTabLostError): running them again completes it.
 */
async function migrate(attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    const result = await migrator.migrateToLatest()
    if (!result.error?.retryable || attempt === attempts) return result
  }
}

const result = await migrate()
window.app = { db, dialect, migrator, result }
if (result.error) {
  $('status').textContent = `Migration failed: ${result.error.message}`
} else {
  const ran = result.results?.map((r) => r.migrationName) ?? []
  $('status').textContent = ran.length ? `This tab ran: ${ran.join(', ')}` : 'Schema already up to date'
  await render()
  setInterval(() => render().catch(() => {}), 1000)
}
window.dispatchEvent(new Event('app-ready'))
