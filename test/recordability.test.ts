// Which statements the operation ledger can make exactly-once, as the bundled SQLite (wa-sqlite's
// sync build, run here in Node on an in-memory database) parses them: the authorizer's calls at
// prepare time, collected by TableAccessCollector, decide. No text is matched.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { beforeAll, describe, expect, it } from 'vitest'
import SQLiteESMFactory from 'wa-sqlite/dist/wa-sqlite.mjs'
import * as SQLite from 'wa-sqlite'
import { LEDGER_TABLE } from '../src/protocol/names.js'
import { TableAccessCollector, recordabilityOf, type TableAccess } from '../src/worker/table-access.js'
import { guardLedger } from '../src/worker/ledger-guard.js'

const require = createRequire(import.meta.url)
let sqlite3: SQLiteAPI
let db: number
const collector = new TableAccessCollector((table) => table.startsWith('sqlite_') || table === LEDGER_TABLE)

/** What SQLite's authorizer reports while `sql` is prepared (undefined: it holds several statements). */
async function accessOf(sql: string): Promise<TableAccess | undefined> {
  const str = sqlite3.str_new(db, sql)
  try {
    collector.begin()
    const prepared = await sqlite3.prepare_v2(db, sqlite3.str_value(str))
    const access = collector.end()
    if (!prepared) return access
    await sqlite3.finalize(prepared.stmt)
    return (await restIsEmpty(prepared.sql)) ? access : undefined
  } finally {
    sqlite3.str_finish(str)
  }
}

async function restIsEmpty(rest: number): Promise<boolean> {
  const next = await sqlite3.prepare_v2(db, rest)
  if (next) await sqlite3.finalize(next.stmt)
  return !next
}

const recordability = async (sql: string) => {
  const access = await accessOf(sql)
  return access ? recordabilityOf(access) : 'unrecordable'
}

beforeAll(async () => {
  const wasmBinary = readFileSync(require.resolve('wa-sqlite/dist/wa-sqlite.wasm'))
  const module = await SQLiteESMFactory({ wasmBinary })
  sqlite3 = SQLite.Factory(module)
  db = await sqlite3.open_v2(':memory:')
  await sqlite3.exec(db, 'create table t (id integer primary key, k text unique, n integer); create table u (v)')
  sqlite3.set_authorizer(
    db,
    (data: unknown, action: number, a1: string | null, a2: string | null, name: string | null, source: string | null) =>
      guardLedger(action, a1, a2, source) || collector.authorize(data, action, a1, a2, name, source),
    null,
  )
})

describe('recordability, decided by SQLite', () => {
  it.each([
    ["insert into t (k) values ('a')", 'write'],
    ["insert into t (k) values ('a') on conflict (k) do update set n = n + 1", 'write'],
    ["insert into t (k) values ('b') returning id", 'write'],
    ['insert into u select k from t', 'write'],
    ['update t set n = 1 where id = 1', 'write'],
    ['delete from t', 'write'],
    ['with x as (select 1 as v) insert into u select v from x', 'write'],
    ['create table w (v)', 'write'],
    ['create index t_n on t (n)', 'write'],
    ['drop table u', 'write'],
    ['alter table t add column z', 'write'],
  ])('a single write: %s -> %s', async (sql, expected) => {
    expect(await recordability(sql)).toBe(expected)
  })

  it.each([
    ['select * from t', 'read'],
    ['with recursive c(x) as (select 1 union all select x + 1 from c where x < 3) select x from c', 'read'],
    ['values (1), (2)', 'read'],
    ['pragma table_info(t)', 'read'],
    ['pragma foreign_keys', 'read'],
    ['pragma integrity_check', 'read'],
    ['explain select 1', 'read'],
    // Running it again is harmless, and it cannot run inside the ledger's transaction.
    ['vacuum', 'read'],
  ])('a read: %s -> %s', async (sql, expected) => {
    expect(await recordability(sql)).toBe(expected)
  })

  it.each([
    'begin',
    'begin immediate',
    'commit',
    'end transaction',
    '/* undo */ rollback',
    'savepoint a',
    'release a',
    "attach database ':memory:' as other",
    'detach database other',
    'pragma foreign_keys = on',
    'pragma user_version = 3',
    'insert into u values (1); insert into u values (2)',
    'select 1; delete from t',
  ])('unrecordable (transaction control, attach, a setting, several statements): %s', async (sql) => {
    expect(await recordability(sql)).toBe('unrecordable')
  })
})
