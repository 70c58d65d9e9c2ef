/**
 * What may be bound as a statement parameter. Checked in the calling tab, before anything is
 * posted, so a bad value fails fast with the parameter's index and never reaches another tab.
 */
import type { SqlValue } from './message-fields.js'

/**
 * Returns the parameters as values SQLite can bind, or throws a TypeError naming the first one
 * that cannot be bound. Booleans become 1/0 and other ArrayBuffer views become Uint8Array;
 * `undefined` binds as NULL.
 */
export function toBindable(params: readonly unknown[]): SqlValue[] {
  const out: SqlValue[] = new Array(params.length)
  for (let i = 0; i < params.length; i++) {
    const value = params[i]
    switch (typeof value) {
      case 'number':
      case 'string':
      case 'bigint':
        out[i] = value
        break
      case 'boolean':
        out[i] = value ? 1 : 0
        break
      case 'undefined':
        out[i] = null
        break
      case 'object':
        if (value === null) {
          out[i] = value
          break
        }
        if (ArrayBuffer.isView(value)) {
          out[i] = ownBytes(value)
          break
        }
        if (value instanceof ArrayBuffer) {
          out[i] = new Uint8Array(value)
          break
        }
        throw unbindable(i, value)
      default:
        throw unbindable(i, value)
    }
  }
  return out
}

/**
 * The viewed bytes in a buffer of their own when the view is part of a larger (or shared) buffer:
 * posting a view clones its whole buffer, so a 10-byte `subarray` of a 256 MB buffer would cost
 * 256 MB per statement, and a SharedArrayBuffer could change under the statement.
 */
function ownBytes(view: ArrayBufferView): Uint8Array {
  const bytes = view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
  const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  return whole ? bytes : bytes.slice()
}

function unbindable(index: number, value: unknown): TypeError {
  const what = typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value
  return new TypeError(
    `Parameter ${index} is a ${what}, which SQLite cannot bind, so nothing was sent: use a number, bigint, string, ` +
      'Uint8Array, boolean or null (convert dates and objects, e.g. with toISOString() or JSON.stringify()).',
  )
}
