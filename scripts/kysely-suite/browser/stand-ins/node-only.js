// Stand-ins for Node-only modules the tests import (database clients of the other dialects, the
// file system, ...). Importing them works; really calling one fails the test that did, loudly.

function fail(what) {
  throw new Error(`${what}: a Node-only module, replaced by a stand-in in the browser run of Kysely's tests`)
}

/** A class (or function) that throws when called or constructed; `methods` exist on its prototype
 *  so tests may spy on them (sinon only wraps existing methods), and throw when really called. */
export function nodeOnly(what, methods = []) {
  const StandIn = function () {
    fail(what)
  }
  Object.defineProperty(StandIn, 'name', { value: what.split('.').at(-1) })
  for (const method of methods) {
    StandIn.prototype[method] = function () {
      fail(`${what}.prototype.${method}`)
    }
  }
  return StandIn
}

/** An object (a constant table such as tedious.ISOLATION_LEVEL) that throws when read. */
export function nodeOnlyValue(what) {
  return new Proxy(
    {},
    {
      get(_target, key) {
        if (typeof key === 'symbol' || key === 'then') return undefined
        fail(`${what}.${key}`)
      },
    },
  )
}
