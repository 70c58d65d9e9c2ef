// Raw clients of the raw worker (plain postMessage, one pending map), and a minimal Kysely
// dialect on top: Kysely's own SQLite adapter and compiler, one connection behind a mutex (what
// Kysely's SqliteDriver does). What this row adds to the raw one is Kysely's own cost.
import { CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely'

export class RawClient {
  #target
  #next = 1
  #pending = new Map()

  /** `target`: the Worker itself (same tab) or a MessagePort into it (another tab). */
  constructor(target) {
    this.#target = target
    target.onmessage = (event) => {
      const m = event.data
      const p = this.#pending.get(m.id)
      if (!p) return
      this.#pending.delete(m.id)
      if (m.error) p.reject(new Error(m.error))
      else p.resolve(m)
    }
  }

  #send(message) {
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#target.postMessage({ ...message, id })
    })
  }

  open(directory, filename, wasmUrl) {
    return this.#send({ t: 'open', directory, filename, wasmUrl })
  }

  exec = (sql, params) => this.#send({ t: 'exec', sql, params })

  /** Runs a workload inside the worker (SQLite alone). */
  inside(name, n) {
    return this.#send({ t: 'inside', name, n })
  }
}

class Mutex {
  #promise
  #resolve
  async lock() {
    while (this.#promise) await this.#promise
    this.#promise = new Promise((resolve) => (this.#resolve = resolve))
  }
  unlock() {
    const resolve = this.#resolve
    this.#promise = undefined
    this.#resolve = undefined
    resolve?.()
  }
}

class RawConnection {
  #client
  constructor(client) {
    this.#client = client
  }
  async executeQuery(compiledQuery) {
    const r = await this.#client.exec(compiledQuery.sql, compiledQuery.parameters)
    if (r.columns) {
      const { columns, rows } = r
      const out = new Array(rows.length)
      for (let i = 0; i < rows.length; i++) {
        const row = {}
        const values = rows[i]
        for (let c = 0; c < columns.length; c++) row[columns[c]] = values[c]
        out[i] = row
      }
      return { rows: out }
    }
    return { rows: [], numAffectedRows: BigInt(r.changes ?? 0) }
  }
  async *streamQuery() {
    throw new Error('not supported')
  }
}

class RawDriver {
  #mutex = new Mutex()
  #connection
  constructor(client) {
    this.#connection = new RawConnection(client)
  }
  async init() {}
  async acquireConnection() {
    await this.#mutex.lock()
    return this.#connection
  }
  async beginTransaction(connection) {
    await connection.executeQuery(CompiledQuery.raw('begin'))
  }
  async commitTransaction(connection) {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }
  async rollbackTransaction(connection) {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }
  async releaseConnection() {
    this.#mutex.unlock()
  }
  async destroy() {}
}

export class RawKyselyDialect {
  #client
  constructor(client) {
    this.#client = client
  }
  createDriver() {
    return new RawDriver(this.#client)
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler()
  }
  createAdapter() {
    return new SqliteAdapter()
  }
  createIntrospector(db) {
    return new SqliteIntrospector(db)
  }
}
