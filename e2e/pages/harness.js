// What the e2e tests drive in each tab: the built package, used as an app would use it.
import * as kysely from 'kysely'
import { Migrator } from 'kysely/migration'
import * as lib from '/dist/index.js'

const { Kysely, sql, CompiledQuery } = kysely

window.harness = {
  lib,
  sql,
  CompiledQuery,
  Migrator,
  /** Kysely's module as this page loaded it (see harness.html for which line). */
  kysely,
  /** Opens the shared database in this tab as window.db (and window.dialect). */
  open(filename, options = {}) {
    window.dialect = new lib.MultiTabOpfsDialect({ filename, ...options })
    window.events = []
    for (const type of ['active-changed', 'active-lost', 'fallback']) {
      window.dialect.on(type, (event) => window.events.push({ type, at: performance.now(), ...event }))
    }
    window.db = new Kysely({ dialect: window.dialect })
    return window.dialect
  },
  /** Turns an error into plain data the test can assert on. */
  describe(error) {
    return {
      name: error?.name,
      message: error?.message,
      code: error?.code,
      resultCode: error?.resultCode,
      retryable: error?.retryable,
      isMultiTabError: error instanceof lib.MultiTabError,
      stack: error?.stack,
    }
  },
}
window.dispatchEvent(new Event('harness-ready'))
