/**
 * Names shared by every runtime of one database: the OPFS directory, the Web Locks and the
 * SharedWorker. Deriving them from the filename in one place keeps two tabs of one database
 * from ever disagreeing.
 */

/** Where importDatabase() stages the incoming file, in the database's own directory. */
export const IMPORT_SCRATCH = 'kysely-multitab-import.db'

/** Rejects filenames that would escape or nest inside the OPFS directory, and the reserved one. */
export function checkFilename(filename: unknown): string {
  if (typeof filename !== 'string' || !/^[\w.-]{1,128}$/.test(filename) || filename.startsWith('.')) {
    const Class = typeof filename === 'string' ? RangeError : TypeError
    throw new Class(
      `filename must be 1-128 letters, digits, '_', '-' or '.', not starting with '.'; got ${JSON.stringify(filename)}`,
    )
  }
  // importDatabase() stages the incoming file under this name, next to the database's own.
  if (filename === IMPORT_SCRATCH) throw new RangeError(`filename ${IMPORT_SCRATCH} is reserved for importDatabase()`)
  return filename
}

export interface DatabaseNames {
  /** OPFS directory that holds this database's files (one per database). */
  readonly directory: string
  /** Web Lock held by the worker that has the files open: whoever holds it is the one writer. */
  readonly roleLock: string
  /** Prefix of the Web Lock each tab holds for its lifetime. */
  readonly tabLockPrefix: string
  /** SharedWorker name: one coordinator per database. */
  readonly coordinator: string
  /**
   * Web Lock the serving coordinator holds for its lifetime (whichever kind it is): at most one
   * coordinator serves a database at a time, and tabs queue for it to learn it died.
   */
  readonly coordinatorLock: string
  /** Web Lock of the tab that hosts the Web Locks coordinator (in a worker of its own). */
  readonly hostLock: string
  /** BroadcastChannel where tabs without a SharedWorker port join the serving coordinator. */
  readonly joinChannel: string
  /**
   * Web Lock of the tab taking the Web Locks coordinator over from a silent one (see
   * client/coordinator-watch.ts): while one tab does, the others wait for the new one.
   */
  readonly takeOverLock: string
}

export function databaseNames(filename: string): DatabaseNames {
  const base = `kysely-multitab/${checkFilename(filename)}`
  return {
    directory: base,
    roleLock: `${base}:role`,
    tabLockPrefix: `${base}:tab:`,
    coordinator: base,
    coordinatorLock: `${base}:coordinator`,
    hostLock: `${base}:coordinator-host`,
    joinChannel: `${base}:join`,
    takeOverLock: `${base}:coordinator-take-over`,
  }
}

/** Ends the name of a coordinator host worker that takes over from a silent coordinator. */
const TAKE_OVER_MARK = '#take-over'

/** The name of a coordinator host worker; `takeOver`: it steals the coordinator lock. */
export function coordinatorHostName(names: DatabaseNames, takeOver: boolean): string {
  return takeOver ? names.coordinator + TAKE_OVER_MARK : names.coordinator
}

/** Whether a coordinator worker of this name takes over from a silent coordinator. */
export function isTakeOver(workerName: string): boolean {
  return workerName.endsWith(TAKE_OVER_MARK)
}

/** The names again, from inside a coordinator worker (see coordinatorHostName). */
export function databaseNamesOfWorker(workerName: string): DatabaseNames {
  const name = isTakeOver(workerName) ? workerName.slice(0, -TAKE_OVER_MARK.length) : workerName
  return databaseNames(name.slice(name.indexOf('/') + 1))
}

/**
 * The table, in the app's database, where the active worker records each write's operation id
 * (see worker/op-ledger.ts). The dialect's introspector hides it.
 */
export const LEDGER_TABLE = '_kysely_multitab_ops'
/** Its index by time, so that pruning old entries never scans the whole table. */
export const LEDGER_INDEX = '_kysely_multitab_ops_at'
