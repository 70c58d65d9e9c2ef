/**
 * The database file as a whole: export, import, empty, check. Each runs in the active worker as
 * one queued step, so no other tab's statement runs in the middle of it.
 *
 * - Export reads the main file through the VFS while no transaction is open: with a rollback
 *   journal, the main file then holds exactly the committed database, a file the sqlite3 CLI opens.
 * - Import never overwrites the live file. The bytes go to a scratch file of the pool, SQLite checks
 *   it (`quick_check`), and its schema and rows replace the app's in ONE transaction: every tab sees
 *   the old database or the new one, and a crash half-way leaves the old one (hot journal). The
 *   file is a stranger's: each schema entry must be exactly one CREATE of the object it names
 *   (SQLite itself ignores text after the first statement, so a file may hide more there), and
 *   nothing in it may touch this library's own table. Anything else refuses the whole file
 *   before the app's database changes.
 * - Empty drops every object of the app in one transaction, then VACUUMs the file small: no copy of
 *   the app's rows stays behind, not even in the operation ledger (see op-ledger.ts).
 */
import { SqliteError } from '../protocol/errors.js'
import { IMPORT_SCRATCH as SCRATCH, LEDGER_INDEX, LEDGER_TABLE } from '../protocol/names.js'
import type { SqliteEngine } from './sqlite-engine.js'

const HEADER = 'SQLite format 3\0'

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`
const ours = (name: string) => name.startsWith('sqlite_') || name === LEDGER_TABLE || name === LEDGER_INDEX

interface SchemaRow {
  type: string
  name: string
  /** The table an index or trigger belongs to (a table's or view's own name). */
  table: string
  sql: string | null
}

async function schema(engine: SqliteEngine, db: 'main' | 'src'): Promise<SchemaRow[]> {
  const { rows } = await engine.exec(`select type, name, tbl_name, sql from ${db}.sqlite_master order by rowid`, [])
  return rows!.map(([type, name, table, sql]) => ({
    type: type as string,
    name: name as string,
    table: table as string,
    sql: sql as string | null,
  }))
}

export async function exportDatabase(engine: SqliteEngine, filename: string): Promise<Uint8Array> {
  if (engine.inTransaction) throw new Error('export: a transaction is open')
  return engine.readFile(filename)
}

/**
 * Removes the scratch file of an import that did not finish (its tab closed or crashed in the
 * middle): it would otherwise keep the file's bytes, and a file of the pool, for good.
 */
export async function removeImportLeftover(engine: SqliteEngine): Promise<void> {
  await engine.deleteFile(SCRATCH).catch(() => {})
}

export async function importDatabase(engine: SqliteEngine, bytes: Uint8Array): Promise<void> {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 512) {
    throw new SqliteError('import: not an SQLite database file (too short)', 26)
  }
  const header = new TextDecoder().decode(bytes.subarray(0, 16))
  if (header !== HEADER) throw new SqliteError('import: not an SQLite database file (bad header)', 26)
  // Awaited before anything else: on a storage that cannot take the file this fails here, before
  // ATTACH could create an empty scratch database that would then "replace" the app's.
  await engine.writeFile(SCRATCH, bytes)
  let attached = false
  try {
    await engine.exec(`attach database '${SCRATCH}' as src`, [])
    attached = true
    const [[pages]] = (await engine.exec('pragma src.page_count', [])).rows!
    if (!(Number(pages) > 0)) throw new SqliteError('import: the file did not arrive in storage (empty)', 10)
    const { rows } = await engine.exec('pragma src.quick_check', [])
    if (rows![0]?.[0] !== 'ok') throw new SqliteError(`import: the file is damaged (${rows![0]?.[0]})`, 11)
    const [[version]] = (await engine.exec('pragma src.user_version', [])).rows!
    const objects = await schema(engine, 'src')
    refuseVirtualTables(objects)
    refuseForeignSchema(objects)
    await engine.exec('begin immediate', [])
    try {
      await dropAppObjects(engine)
      const incoming = objects.filter((o) => !ours(o.name) && o.sql)
      for (const table of incoming.filter((o) => o.type === 'table')) {
        await createObject(engine, table)
        await engine.exec(`insert into main.${quote(table.name)} select * from src.${quote(table.name)}`, [])
      }
      for (const other of incoming.filter((o) => o.type !== 'table')) await createObject(engine, other)
      const hasSequence = objects.some((o) => o.name === 'sqlite_sequence')
      if (hasSequence && (await schema(engine, 'main')).some((o) => o.name === 'sqlite_sequence')) {
        await engine.exec('delete from main.sqlite_sequence', [])
        await engine.exec('insert into main.sqlite_sequence select * from src.sqlite_sequence', [])
      }
      await engine.exec(`pragma main.user_version = ${Number(version) | 0}`, [])
      await engine.exec('commit', [])
    } catch (error) {
      await engine.rollback().catch(() => {})
      throw error
    }
  } finally {
    if (attached) await engine.exec('detach database src', []).catch(() => {})
    await engine.deleteFile(SCRATCH).catch(() => {})
  }
}

/**
 * Refuses a file with virtual tables (FTS5, R*Tree, ...): the bundled SQLite has none of their
 * modules, so they could be neither created nor skipped safely (a trigger or view of the file
 * that uses one would then fail every write to its table). Checked before anything changes.
 */
function refuseVirtualTables(objects: SchemaRow[]): void {
  const virtual = objects.filter((o) => o.type === 'table' && /^\s*create\s+virtual\s+table\b/i.test(o.sql ?? ''))
  if (virtual.length === 0) return
  const named = virtual.map((o) => `${o.name} (${/\busing\s+(\w+)/i.exec(o.sql ?? '')?.[1] ?? 'unknown module'})`)
  throw new SqliteError(
    `import: the file has virtual tables, which the bundled SQLite cannot open: ${named.join(', ')}. Nothing changed; ` +
      'drop them, and the triggers and views that use them, from the file first (e.g. with the sqlite3 CLI)',
    1,
  )
}

/**
 * Refuses a file whose schema reaches for this library's own table (a trigger or index on it, or a
 * trigger whose body names it) or whose entries are not CREATE statements of their own type.
 * Checked before anything changes; the ledger guard (ledger-guard.ts) refuses such triggers too.
 */
function refuseForeignSchema(objects: SchemaRow[]): void {
  const bad = objects.filter(
    (o) => !ours(o.name) && o.sql && (ours(o.table) || o.sql.toLowerCase().includes(LEDGER_TABLE) || !createsItsType(o)),
  )
  if (bad.length === 0) return
  throw new SqliteError(
    `import: the file's schema has entries this library will not run: ${bad.map((o) => `${o.type} ${o.name}`).join(', ')}. ` +
      `Nothing changed (each entry must be one CREATE of its own type, and none may touch ${LEDGER_TABLE})`,
    1,
  )
}

const CREATES: Record<string, RegExp> = {
  table: /^\s*create\s+table\b/i,
  view: /^\s*create\s+view\b/i,
  index: /^\s*create\s+(unique\s+)?index\b/i,
  trigger: /^\s*create\s+trigger\b/i,
}
const createsItsType = (o: SchemaRow) => Object.hasOwn(CREATES, o.type) && CREATES[o.type]!.test(o.sql!)

/** Runs one schema entry: exactly one statement, which must have made the object it names. */
async function createObject(engine: SqliteEngine, object: SchemaRow): Promise<void> {
  await engine.exec(object.sql!, [], { single: true })
  const made = await engine.exec('select 1 from main.sqlite_master where type = ? and name = ?', [object.type, object.name])
  if (made.rows!.length === 0) {
    throw new SqliteError(`import: the schema entry of ${object.type} ${object.name} did not create it. Nothing changed`, 1)
  }
}

export async function emptyDatabase(engine: SqliteEngine): Promise<void> {
  await engine.exec('begin immediate', [])
  try {
    await dropAppObjects(engine)
    await engine.exec('pragma main.user_version = 0', [])
    await engine.exec('commit', [])
  } catch (error) {
    await engine.rollback().catch(() => {})
    throw error
  }
  await engine.exec('vacuum', [])
}

/**
 * Drops the app's views, triggers and tables (indexes go with their tables), and the copies of its
 * rows the operation ledger keeps (RETURNING results): the ids stay, so a retry still applies once.
 */
async function dropAppObjects(engine: SqliteEngine): Promise<void> {
  const all = await schema(engine, 'main')
  if (all.some((o) => o.name === LEDGER_TABLE)) {
    await engine.exec(`update ${LEDGER_TABLE} set columns = null, rows = null where columns is not null or rows is not null`, [])
  }
  const objects = all.filter((o) => !ours(o.name))
  await engine.exec('pragma defer_foreign_keys = on', [])
  for (const type of ['view', 'trigger', 'table'] as const) {
    for (const o of objects.filter((x) => x.type === type)) {
      await engine.exec(`drop ${type} if exists main.${quote(o.name)}`, [])
    }
  }
}

/** The database's own verdict on its file, and its size. */
export async function checkDatabase(
  engine: SqliteEngine,
): Promise<{ quickCheck: string; pageSize: number; pageCount: number; freePages: number }> {
  const one = async (sql: string) => (await engine.exec(sql, [])).rows!.map((r) => r[0])
  const quick = await one('pragma quick_check')
  const [pageSize] = await one('pragma page_size')
  const [pageCount] = await one('pragma page_count')
  const [freePages] = await one('pragma freelist_count')
  return {
    quickCheck: quick.join('; '),
    pageSize: Number(pageSize),
    pageCount: Number(pageCount),
    freePages: Number(freePages),
  }
}
