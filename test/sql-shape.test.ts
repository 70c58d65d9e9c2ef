import { describe, expect, it } from 'vitest'
import { sqlShape } from '../src/protocol/sql-shape.js'

describe('sqlShape', () => {
  it('names the first keyword, after whitespace and comments', () => {
    expect(sqlShape('select 1')).toEqual({ keyword: 'select', single: true })
    expect(sqlShape('  \n\tSELECT * from t')).toEqual({ keyword: 'select', single: true })
    expect(sqlShape('-- why\n/* note */ values (1)')).toEqual({ keyword: 'values', single: true })
    expect(sqlShape('with x as (select 1) insert into t select * from x').keyword).toBe('with')
    expect(sqlShape('')).toEqual({ keyword: '', single: true })
  })

  it('one statement may end with a semicolon and comments', () => {
    expect(sqlShape('select 1;').single).toBe(true)
    expect(sqlShape('select 1 ;  -- done\n /* really */ ').single).toBe(true)
  })

  it('a second statement makes it several, whatever the first one is', () => {
    expect(sqlShape("select 1; insert into t values ('x')")).toEqual({ keyword: 'select', single: false })
    expect(sqlShape('select 1;select 2').single).toBe(false)
    expect(sqlShape('select 1; -- c\n delete from t').single).toBe(false)
  })

  it('semicolons inside literals, quoted names and comments are not statement ends', () => {
    expect(sqlShape("select ';' as x").single).toBe(true)
    expect(sqlShape("select 'it''s; fine' as x").single).toBe(true)
    expect(sqlShape('select 1 as "a;b"').single).toBe(true)
    expect(sqlShape('select 1 as `a;b`').single).toBe(true)
    expect(sqlShape('select 1 as [a;b]').single).toBe(true)
    expect(sqlShape('select 1 -- ; delete from t\n').single).toBe(true)
    expect(sqlShape('select 1 /* ; delete from t */').single).toBe(true)
  })

  it("a named parameter's (...) suffix may hide a statement end: not read, so several (the safe answer)", () => {
    // SQLite's tokenizer takes `$a(--)` whole, so the insert runs.
    expect(sqlShape('select $a(--);insert into t values(1)').single).toBe(false)
    expect(sqlShape("select :a(');insert into t values(1)").single).toBe(false)
    expect(sqlShape('select @a(/*);insert into t values(1)').single).toBe(false)
    expect(sqlShape("select :é(');insert into t values(1)").single).toBe(false)
    expect(sqlShape("select $a::b$(');insert into t values(1)").single).toBe(false)
    // Plain named parameters are read as such.
    expect(sqlShape('select :a, @b, $c, #d; ').single).toBe(true)
  })

  it('an unterminated literal or comment does not throw (SQLite will reject the text)', () => {
    expect(sqlShape("select 'open").single).toBe(true)
    expect(sqlShape('select 1 /* open').single).toBe(true)
    expect(sqlShape('select [open').single).toBe(true)
  })
})
