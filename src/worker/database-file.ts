/**
 * The database file as a whole: export, import, empty, check. Each runs in the active worker as
 * one queued step, so no other tab's statement runs in the middle of it.
 *
 * - Export reads the main file through the VFS while no transaction is open: with a rollback
 *   journal, the main file then holds exactly the committed database, a file the sqlite3 CLI opens.
 * - Import never overwrites the live file. The bytes go to a scratch file of the pool, SQLite checks
 *   it (`quick_check`), and its schema and rows replace the app's in ONE transaction: every tab sees
 *   the old database or the new one, and a crash half-way leaves the old one (hot journal).
 * - Empty drops every object of the app in one transaction, then VACUUMs the file small: no copy of
 *   the app's rows stays behind, not even in the operation ledger (see op-ledger.ts).
 */
import { SqliteError } from '../protocol/errors.js'
import { IMPORT_SCRATCH as SCRATCH, LEDGER_TABLE } from '../protocol/names.js'
import type { SqliteEngine } from './sqlite-engine.js'

const HEADER = 'SQLite format 3\0'

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`
const ours = (name: string) => name.startsWith('sqlite_') || name === LEDGER_TABLE

interface SchemaRow {
  type: string
  name: string
  sql: string | null
}

async function schema(engine: SqliteEngine, db: 'main' | 'src'): Promise<SchemaRow[]> {
  const { rows } = await engine.exec(`select type, name, sql from ${db}.sqlite_master order by rowid`, [])
  return rows!.map(([type, name, sql]) => ({ type: type as string, name: name as string, sql: sql as string | null }))
}

export async function exportDatabase(engine: SqliteEngine, filename: string): Promise<Uint8Array> {
  if (engine.inTransaction) throw new Error('export: a transaction is open')
  return engine.readFile(filename)
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
    await engine.exec('begin immediate', [])
    try {
      await dropAppObjects(engine)
      const incoming = withoutVirtualTables((await schema(engine, 'src')).filter((o) => !ours(o.name) && o.sql))
      for (const table of incoming.filter((o) => o.type === 'table')) {
        await engine.exec(table.sql!, [])
        await engine.exec(`insert into main.${quote(table.name)} select * from src.${quote(table.name)}`, [])
      }
      for (const other of incoming.filter((o) => o.type !== 'table')) await engine.exec(other.sql!, [])
      const hasSequence = (await schema(engine, 'src')).some((o) => o.name === 'sqlite_sequence')
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
 * The schema without virtual tables (FTS5, R*Tree, ...) and their shadow tables: their module may
 * be missing from this build (creating one fails then), and where it is there, creating the
 * virtual table makes its shadow tables itself. The app recreates them after an import.
 */
function withoutVirtualTables(objects: SchemaRow[]): SchemaRow[] {
  const virtual = objects.filter((o) => o.type === 'table' && /^\s*create\s+virtual\s+table\b/i.test(o.sql ?? ''))
  if (virtual.length === 0) return objects
  const names = new Set(virtual.map((o) => o.name.toLowerCase()))
  const isShadow = (name: string) => {
    const match = /^(.+)_(data|idx|content|docsize|config|segments|segdir|stat|node|rowid|parent)$/i.exec(name)
    return !!match && names.has(match[1]!.toLowerCase())
  }
  return objects.filter((o) => !names.has(o.name.toLowerCase()) && !(o.type === 'table' && isShadow(o.name)))
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
