/**
 * SQLite's authorizer action codes and results (sqlite3.h), for the authorizer's two users: the
 * table-access collector (what a statement touches) and the ledger guard (what it may not touch).
 */
export const Action = {
  CREATE_TEMP_TRIGGER: 5,
  CREATE_TRIGGER: 7,
  DELETE: 9,
  INSERT: 18,
  PRAGMA: 19,
  READ: 20,
  TRANSACTION: 22,
  UPDATE: 23,
  ATTACH: 24,
  DETACH: 25,
  ALTER_TABLE: 26,
  SAVEPOINT: 32,
} as const

/** The authorizer's answer that refuses the statement (it fails with SQLITE_AUTH). */
export const SQLITE_DENY = 1
