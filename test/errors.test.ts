import { describe, expect, it } from 'vitest'
import {
  ActiveTabLostError,
  LeaseTimeoutError,
  MultiTabError,
  SqliteError,
  appendCallerStack,
  deserializeError,
  serializeError,
} from '../src/protocol/errors.js'
import { sqliteCodeName } from '../src/protocol/sqlite-codes.js'
import { toBindable } from '../src/protocol/values.js'

describe('errors across threads', () => {
  it('keeps the SQLite code and class, and appends the caller stack', () => {
    const inWorker = Object.assign(new Error('UNIQUE constraint failed: u.email'), { code: 2067 })
    const data = structuredClone(serializeError(inWorker))
    const error = appendCallerStack(deserializeError(data), new Error('caller')) as SqliteError
    expect(error).toBeInstanceOf(SqliteError)
    expect(error).toBeInstanceOf(MultiTabError)
    expect(error.code).toBe('SQLITE_CONSTRAINT_UNIQUE')
    expect(error.resultCode).toBe(2067)
    expect(error.primaryResultCode).toBe(19)
    expect(error.retryable).toBe(false)
    expect(error.stack).toContain('errors.test.ts')
    // The worker's frames first, then the caller's.
    expect(error.stack!.indexOf('errors.test.ts')).toBeGreaterThan(error.stack!.indexOf('UNIQUE constraint failed'))
    expect(appendCallerStack('not an error', new Error())).toBe('not an error')
  })

  it('rebuilds our own classes with their retryability', () => {
    const lost = deserializeError(serializeError(new ActiveTabLostError('gone')))
    expect(lost).toBeInstanceOf(ActiveTabLostError)
    expect((lost as ActiveTabLostError).retryable).toBe(true)
    expect(deserializeError(serializeError(new LeaseTimeoutError('x')))).toBeInstanceOf(LeaseTimeoutError)
    expect(deserializeError(serializeError(new TypeError('bad')))).toBeInstanceOf(TypeError)
    expect(deserializeError(serializeError('a string'))).toBeInstanceOf(Error)
  })

  it('names primary and extended codes; busy is retryable', () => {
    expect(sqliteCodeName(19)).toBe('SQLITE_CONSTRAINT')
    expect(sqliteCodeName(1555)).toBe('SQLITE_CONSTRAINT_PRIMARYKEY')
    expect(sqliteCodeName(13)).toBe('SQLITE_FULL')
    expect(new SqliteError('busy', 5).retryable).toBe(true)
    expect(new SqliteError('full', 13).isStorageFailure).toBe(true)
  })
})

describe('toBindable', () => {
  it('passes SQLite values through and converts booleans, views and undefined', () => {
    const bytes = new Uint8Array([1, 2])
    expect(toBindable([1, 1.5, 'x', 2n, null, bytes, true, false, undefined])).toEqual([
      1, 1.5, 'x', 2n, null, bytes, 1, 0, null,
    ])
    expect(toBindable([new Uint16Array([1])])[0]).toBeInstanceOf(Uint8Array)
  })

  it('names the index of a value that cannot be bound', () => {
    expect(() => toBindable([1, {}])).toThrow(/Parameter 1 is a Object/)
    expect(() => toBindable([() => 1])).toThrow(/Parameter 0 is a function/)
    expect(() => toBindable([1, 2, Symbol('s')])).toThrow(TypeError)
    expect(() => toBindable([new Date()])).toThrow(/Parameter 0 is a Date/)
  })
})
