import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { StatementTimeoutPlugin, statementTimeoutOf } from '../src/dialect/statement-timeout-plugin.js'

interface DB {
  t: { id: number }
}

const db = new Kysely<DB>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new SqliteIntrospector(k),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
})

describe('StatementTimeoutPlugin', () => {
  it('gives the queries compiled through it, built or raw, its limit, and no others', () => {
    const limited = db.withPlugin(new StatementTimeoutPlugin(500))
    expect(statementTimeoutOf(limited.selectFrom('t').selectAll().compile().queryId)).toBe(500)
    expect(statementTimeoutOf(limited.deleteFrom('t').compile().queryId)).toBe(500)
    expect(statementTimeoutOf(sql`select 1`.compile(limited).queryId)).toBe(500)
    expect(statementTimeoutOf(db.selectFrom('t').selectAll().compile().queryId)).toBeUndefined()
    expect(statementTimeoutOf(sql`select 1`.compile(db).queryId)).toBeUndefined()
  })

  it('the plugin added last wins', () => {
    const twice = db.withPlugin(new StatementTimeoutPlugin(500)).withPlugin(new StatementTimeoutPlugin(9000))
    expect(statementTimeoutOf(twice.selectFrom('t').selectAll().compile().queryId)).toBe(9000)
  })

  it('takes whole milliseconds a timer can wait, as the dialect options do', () => {
    expect(() => new StatementTimeoutPlugin(0)).toThrow(RangeError)
    expect(() => new StatementTimeoutPlugin(Number.NaN)).toThrow(RangeError)
    expect(() => new StatementTimeoutPlugin(2 ** 31)).toThrow(RangeError)
    expect(() => new StatementTimeoutPlugin('500' as unknown as number)).toThrow(TypeError)
    const rounded = db.withPlugin(new StatementTimeoutPlugin(2.4))
    expect(statementTimeoutOf(rounded.selectFrom('t').selectAll().compile().queryId)).toBe(2)
  })
})
