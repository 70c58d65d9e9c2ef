/**
 * Keeps the operation ledger (see op-ledger.ts) out of reach of triggers. Exactly-once writes rest
 * on the ledger holding a record if and only if its write committed; a trigger that deletes from
 * it would silently turn that off, and a trigger on it that raises would fail every builder write.
 * Such triggers can come from any SQL the app runs or from a user's imported file, so SQLite's
 * authorizer refuses them when a statement is compiled, whatever its text looks like: no trigger
 * may be created on the ledger, and no trigger may write to it. The library's own statements write
 * to it directly, never through a trigger.
 */
import { LEDGER_TABLE } from '../protocol/names.js'
import { Action, SQLITE_DENY } from './authorizer-codes.js'

const { CREATE_TEMP_TRIGGER, CREATE_TRIGGER, DELETE, INSERT, UPDATE } = Action

const isLedger = (table: string | null) => table !== null && table.toLowerCase() === LEDGER_TABLE

/** SQLITE_DENY for an action that would let a trigger touch the ledger, else 0 (no objection). */
export function guardLedger(action: number, arg1: string | null, arg2: string | null, source: string | null | undefined): number {
  if ((action === CREATE_TRIGGER || action === CREATE_TEMP_TRIGGER) && isLedger(arg2)) return SQLITE_DENY
  if (source && (action === INSERT || action === DELETE || action === UPDATE) && isLedger(arg1)) return SQLITE_DENY
  return 0
}
