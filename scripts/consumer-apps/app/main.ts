// The consumer app: what a user of the package writes, typed, with no bundler configuration.
// Vite builds it as src/main.ts; the webpack app gets it with its types erased (src/index.js).
// Both apps run `tsc --noEmit` on it: the @ts-expect-error lines fail the check if the package's
// types ever degrade to `any`.
import { Kysely, type Generated, type Selectable } from 'kysely'
import { Migrator } from 'kysely/migration' // kysely 0.29: the Migrator's own entry
import { BrowserMigrationProvider, MultiTabOpfsDialect, SqliteError, type TabStatus } from 'kysely-multitab-opfs'

interface NoteTable {
  id: Generated<number>
  title: string
}

interface DB {
  note: NoteTable
}

type Note = Selectable<NoteTable>

const dialect = new MultiTabOpfsDialect({ filename: 'app.db' })
const db = new Kysely<DB>({ dialect })

// Every tab migrates at start-up, as the README shows.
const migrator = new Migrator({
  db,
  provider: new BrowserMigrationProvider({
    '0001_create_note': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('note')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('title', 'text', (c) => c.notNull().unique())
          .execute()
      },
    },
  }),
})
const ready: Promise<void> = migrator.migrateToLatest().then(({ error }) => {
  if (error) throw error
})

async function insert(title: string): Promise<number> {
  const row = await db.insertInto('note').values({ title }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

async function titles(): Promise<string[]> {
  const rows: Pick<Note, 'title'>[] = await db.selectFrom('note').select('title').orderBy('id').execute()
  return rows.map((r) => r.title)
}

/** Inserts `title` again: the UNIQUE constraint fails, and the error says so. */
async function duplicateCode(title: string): Promise<string> {
  try {
    await insert(title)
    return 'no error'
  } catch (error) {
    if (error instanceof SqliteError) {
      const code: string = error.code
      const primary: number = error.primaryResultCode
      return `${code} (${primary})`
    }
    throw error
  }
}

async function role(): Promise<TabStatus['role']> {
  const status = await dialect.status()
  return status.role
}

// Watch once the table exists (a query on a missing table cannot be watched).
let watched: Note[] = []
void ready.then(() =>
  dialect.watch(db.selectFrom('note').selectAll().orderBy('id'), (rows) => {
    const first: number | undefined = rows[0]?.id
    void first
    watched = rows
  }),
)

// Wrong uses must not compile.
async function typeErrors(): Promise<void> {
  // @ts-expect-error: no such table
  await db.selectFrom('nope').selectAll().execute()
  // @ts-expect-error: title is a string
  await db.insertInto('note').values({ title: 42 }).execute()
  // @ts-expect-error: no such column
  await db.selectFrom('note').select('nope').execute()
  // @ts-expect-error: filename is required
  new MultiTabOpfsDialect({})
  const status = await dialect.status()
  // @ts-expect-error: role is a union of known strings
  const bad: 'leader' = status.role
  void bad
  dialect.watch(db.selectFrom('note').select('title'), (rows) => {
    // @ts-expect-error: the watched query selects only title
    void rows[0]?.id
  })
}
void typeErrors

// What the browser test drives.
declare global {
  interface Window {
    consumer: {
      ready: Promise<void>
      insert: typeof insert
      titles: typeof titles
      duplicateCode: typeof duplicateCode
      role: typeof role
      status: () => Promise<TabStatus>
      watched: () => string[]
    }
  }
}

window.consumer = {
  ready,
  insert,
  titles,
  duplicateCode,
  role,
  status: () => dialect.status(),
  watched: () => watched.map((n) => n.title),
}
