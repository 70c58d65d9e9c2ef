// The `sqlite` entry of Kysely's DB_CONFIGS in the browser run (see patch-tests.mjs): our dialect,
// from the packed package, on a database file no other test file or Kysely config uses.
import { MultiTabOpfsDialect } from 'kysely-multitab-opfs'

let count = 0

function databaseName() {
  const state = globalThis.__kyselySuite
  const file = String(state?.currentFile ?? 'setup').replace(/\.test$/, '')
  return `ks-${state?.runId ?? 'run'}-${file}-${++count}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128)
}

/** A fresh KyselyConfig: a new dialect on a new database file. */
export function sqliteConfig(plugins) {
  const filename = databaseName()
  globalThis.__kyselySuite?.databases.push(filename)
  return { dialect: new MultiTabOpfsDialect({ filename }), plugins }
}

/**
 * The class of the driver MultiTabOpfsDialect makes, for tests that stub the sqlite driver's
 * prototype. Making a driver opens nothing: only its init() starts workers.
 */
export const DriverClass = new MultiTabOpfsDialect({ filename: 'ks-driver-class-probe' }).createDriver().constructor
