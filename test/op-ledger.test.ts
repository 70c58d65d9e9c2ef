// The order of the ledger's steps for a statement sent with an operation id (the SQL itself runs
// in the browser e2e tests; here a stand-in engine records what was asked of it).
import { describe, expect, it } from 'vitest'
import { OpLedger } from '../src/worker/op-ledger.js'
import type { SqliteEngine } from '../src/worker/sqlite-engine.js'
import { SqliteError } from '../src/protocol/errors.js'

/** An engine whose ledger holds `recorded` op ids, and on which `create table w` no longer compiles. */
function engineWith(recorded: string[]) {
  const asked: string[] = []
  const engine = {
    inTransaction: false,
    async exec(sql: string, params: unknown[]) {
      asked.push(sql)
      if (sql.startsWith('select changes, rowid')) {
        return {
          columns: ['changes', 'rowid', 'columns', 'rows'],
          rows: recorded.includes(params[0] as string) ? [[0, null, null, null]] : [],
        }
      }
      return { changes: 0 }
    },
    async recordability(sql: string) {
      asked.push(`classify ${sql}`)
      if (sql === 'create table w (v)') throw new SqliteError('table w already exists', 1)
      return 'write' as const
    },
    async rollback() {},
  }
  return { engine: engine as unknown as SqliteEngine, asked }
}

describe('OpLedger.run', () => {
  it('a retry of a write that was applied returns its record before the SQL is even compiled (a CREATE TABLE would not compile again)', async () => {
    const { engine, asked } = engineWith(['tab:1'])
    await expect(new OpLedger(engine).run('tab:1', 'create table w (v)', [], true)).resolves.toEqual({
      changes: 0,
      lastInsertRowid: undefined,
    })
    expect(asked.some((a) => a.startsWith('classify'))).toBe(false)
  })

  it('a retry of a write that was not applied applies it, recorded in the same transaction', async () => {
    const { engine, asked } = engineWith([])
    await new OpLedger(engine).run('tab:2', 'insert into t values (1)', [], true)
    const after = asked.slice(asked.indexOf('begin immediate'))
    expect(after.slice(0, 4).map((s) => s.split(' (')[0])).toEqual([
      'begin immediate',
      'insert into t values',
      'insert into _kysely_multitab_ops',
      'commit',
    ])
  })
})
