// The statements every contender runs: the raw rows send these texts; the Kysely rows build
// queries that compile to exactly these (checked at start-up by checkCompiledSql).
export const TABLE_ROWS = 10_000
export const BATCH_ROWS = 500

export const WORKLOAD_SQL = {
  select1: 'select 1 as x',
  point: 'select * from "kv" where "id" = ?',
  insert: 'insert into "ins" ("v", "n") values (?, ?)',
  selectAll: 'select * from "kv"',
  batch: 'insert into "ins" ("v", "n") values ' + new Array(BATCH_ROWS).fill('(?, ?)').join(', '),
}

export const SETUP_SQL = [
  'create table if not exists "kv" ("id" integer primary key, "v" text not null, "n" integer not null)',
  'create table if not exists "ins" ("id" integer primary key, "v" text not null, "n" integer not null)',
]

/** The id of the i-th point select (a fixed, scattered sequence over the table). */
export const pointId = (i) => 1 + ((i * 7919) % TABLE_ROWS)

export function batchRows(b) {
  const rows = new Array(BATCH_ROWS)
  for (let j = 0; j < BATCH_ROWS; j++) rows[j] = { v: `batch ${b} row ${j}`, n: b * BATCH_ROWS + j }
  return rows
}

export function rowsForBatch(b) {
  const params = []
  for (const r of batchRows(b)) params.push(r.v, r.n)
  return { sql: WORKLOAD_SQL.batch, params }
}

/** The kv table's rows, for the (untimed) set-up: as multi-row inserts of BATCH_ROWS. */
export function kvFill() {
  const out = []
  for (let start = 1; start <= TABLE_ROWS; start += BATCH_ROWS) {
    const params = []
    const tuples = []
    for (let id = start; id < start + BATCH_ROWS && id <= TABLE_ROWS; id++) {
      tuples.push('(?, ?, ?)')
      params.push(id, `value ${id} ${'x'.repeat(20)}`, id * 3)
    }
    out.push({ sql: `insert into "kv" ("id", "v", "n") values ${tuples.join(', ')}`, params })
  }
  return out
}
