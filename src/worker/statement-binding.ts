/**
 * Binding a statement's parameters. Integers are bound as SQLite integers (int32, else int64, as
 * better-sqlite3 does; wa-sqlite's own bind() would bind 2^40 as a REAL), bigints as int64 with a
 * range check, and an empty Uint8Array as an empty blob rather than NULL.
 */
import { SqliteError } from '../protocol/errors.js'
import type { SqlValue } from '../protocol/message-fields.js'

/** The raw Emscripten exports the empty-blob case needs. */
export interface BindingModule {
  _sqlite3_malloc(n: number): number
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number
  _getSqliteFree(): number
}

export function bindParameters(sqlite3: SQLiteAPI, module: BindingModule, stmt: number, params: readonly SqlValue[]): void {
  const expected = sqlite3.bind_parameter_count(stmt)
  if (params.length !== expected) {
    throw new RangeError(`The statement takes ${expected} parameter(s) but ${params.length} were given`)
  }
  for (let i = 0; i < params.length; i++) {
    const value = params[i]
    const at = i + 1
    if (value === null) sqlite3.bind_null(stmt, at)
    else if (typeof value === 'number') {
      if (Number.isInteger(value) && value <= 0x7fffffff && value >= -0x80000000) sqlite3.bind_int(stmt, at, value)
      else if (Number.isSafeInteger(value)) sqlite3.bind_int64(stmt, at, BigInt(value))
      else sqlite3.bind_double(stmt, at, value)
    } else if (typeof value === 'string') sqlite3.bind_text(stmt, at, value)
    else if (typeof value === 'bigint') {
      if (value > 0x7fffffffffffffffn || value < -0x8000000000000000n) {
        throw new RangeError(`Parameter ${i} (${value}) does not fit in a 64-bit integer`)
      }
      sqlite3.bind_int64(stmt, at, value)
    } else if (value instanceof Uint8Array) {
      if (value.byteLength === 0) bindEmptyBlob(module, stmt, at)
      else sqlite3.bind_blob(stmt, at, value)
    } else {
      throw new TypeError(`Parameter ${i} cannot be bound`)
    }
  }
}

/** wa-sqlite binds an empty Uint8Array as NULL (its malloc(0) is a null pointer); SQLite wants X''. */
function bindEmptyBlob(module: BindingModule, stmt: number, at: number): void {
  const ptr = module._sqlite3_malloc(1)
  const rc = module._sqlite3_bind_blob(stmt, at, ptr, 0, module._getSqliteFree())
  if (rc !== 0) throw new SqliteError('bind failed', rc)
}
