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
  it('keeps the SQLite code and class across threads', () => {
    const inWorker = Object.assign(new Error('UNIQUE constraint failed: u.email'), { code: 2067 })
    const error = deserializeError(structuredClone(serializeError(inWorker))) as SqliteError
    expect(error).toBeInstanceOf(SqliteError)
    expect(error).toBeInstanceOf(MultiTabError)
    expect(error.code).toBe('SQLITE_CONSTRAINT_UNIQUE')
    expect(error.resultCode).toBe(2067)
    expect(error.primaryResultCode).toBe(19)
    expect(error.retryable).toBe(false)
  })

  it("a DOMException's numeric legacy code is not taken for SQLite's (AbortError's is 20)", () => {
    const stolen = new DOMException("Lock broken by another request with the 'steal' option.", 'AbortError')
    expect(stolen.code).toBe(20)
    const error = deserializeError(structuredClone(serializeError(stolen)))
    expect(error).not.toBeInstanceOf(SqliteError)
    expect(error.name).toBe('AbortError')
  })

  it('a not-retryable ActiveTabLostError stays not retryable across threads', () => {
    const error = deserializeError(structuredClone(serializeError(new ActiveTabLostError('x', { retryable: false }))))
    expect(error).toBeInstanceOf(ActiveTabLostError)
    expect((error as ActiveTabLostError).retryable).toBe(false)
    expect((deserializeError(serializeError(new ActiveTabLostError('y'))) as ActiveTabLostError).retryable).toBe(true)
  })

  it("appends the caller's frames after the worker's, once per error (one error may fail many requests)", () => {
    const data = {
      name: 'SqliteError',
      message: 'no such table: t',
      resultCode: 1,
      stack: 'Error: no such table: t\n    at prepare (tab-worker.js:10:5)',
    }
    const shared = deserializeError(data)
    const caller = (line: number) => Object.assign(new Error(), { stack: `Error\n    at async appCode (app.js:${line}:1)` })
    const first = appendCallerStack(shared, caller(1)) as SqliteError
    expect(first).toBe(shared)
    expect(first.stack).toBe(
      'SqliteError: no such table: t\n    at prepare (tab-worker.js:10:5)\n    at async appCode (app.js:1:1)',
    )
    appendCallerStack(shared, caller(2))
    expect(shared.stack).toBe(first.stack) // not grown by the second request it failed
    expect(first).toBeInstanceOf(SqliteError)
    expect(first.code).toBe('SQLITE_ERROR')
    expect(first.message).toBe('no such table: t')
    expect(appendCallerStack('not an error', caller(3))).toBe('not an error')
  })

  it('rebuilds our own classes with their retryability', () => {
    const lost = deserializeError(serializeError(new ActiveTabLostError('gone')))
    expect(lost).toBeInstanceOf(ActiveTabLostError)
    expect((lost as ActiveTabLostError).retryable).toBe(true)
    expect(deserializeError(serializeError(new LeaseTimeoutError('x')))).toMatchObject({
      name: 'LeaseTimeoutError',
      retryable: true,
    })
    // Waiting on a query of its own tab: a deadlock a retry repeats.
    const deadlock = deserializeError(serializeError(new LeaseTimeoutError('x', { retryable: false })))
    expect(deadlock).toBeInstanceOf(LeaseTimeoutError)
    expect((deadlock as LeaseTimeoutError).retryable).toBe(false)
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
    expect(toBindable([1, 1.5, 'x', 2n, null, bytes, true, false, undefined])).toEqual([1, 1.5, 'x', 2n, null, bytes, 1, 0, null])
    expect(toBindable([new Uint16Array([1])])[0]).toBeInstanceOf(Uint8Array)
  })

  it('sends only the viewed bytes of a view into a larger buffer (posting a view clones its whole buffer)', () => {
    const big = new Uint8Array(1 << 20).fill(7)
    const whole = new Uint8Array(4)
    const [part, wide, own] = toBindable([big.subarray(10, 20), new DataView(big.buffer, 5, 3), whole])
    expect((part as Uint8Array).buffer.byteLength).toBe(10)
    expect(Array.from(part as Uint8Array)).toEqual(Array(10).fill(7))
    expect((wide as Uint8Array).buffer.byteLength).toBe(3)
    expect(own).toBe(whole) // already its own buffer: not copied
  })

  it('names the index of a value that cannot be bound', () => {
    expect(() => toBindable([1, {}])).toThrow(/Parameter 1 is a Object/)
    expect(() => toBindable([() => 1])).toThrow(/Parameter 0 is a function/)
    expect(() => toBindable([1, 2, Symbol('s')])).toThrow(TypeError)
    expect(() => toBindable([new Date()])).toThrow(/Parameter 0 is a Date/)
  })
})
