// The raw rows. As host: this tab starts the raw worker and talks to it with plain postMessage
// (row 1), through a minimal Kysely dialect (row 3), or asks it to run the workloads itself
// (row 2). As guest: another tab, with a MessagePort straight into the host's worker (row 4).
import { Kysely } from 'kysely'
import { RawClient, RawKyselyDialect } from './raw-client.js'
import { kyselyWorkloads, rawWorkloads } from './workloads.js'
import { where, heap } from './page-common.js'

const here = new URL('.', import.meta.url)
const now = () => performance.now()

function connectBroker() {
  const shared = new SharedWorker(new URL('./raw-broker.js', here), { type: 'module', name: 'bench-raw-broker' })
  shared.port.start()
  return shared.port
}

window.bench = {
  kind: 'raw',
  /** Host: start the worker, open `name`, first answer. Returns ms from the call to the answer. */
  async open(name) {
    const t0 = now()
    const worker = new Worker(new URL('./raw-worker.js', here), { type: 'module', name: `raw ${name}` })
    const client = new RawClient(worker)
    const { openMs, openSteps } = await client.open(`bench-raw/${name}`, name, new URL('./wa-sqlite.wasm', here).href)
    await client.exec('select 1', [])
    const ms = now() - t0
    const broker = connectBroker()
    broker.onmessage = (e) => {
      if (e.data.t === 'attach') worker.postMessage({ t: 'attach', port: e.data.port }, [e.data.port])
    }
    broker.postMessage({ t: 'host', name })
    this.name = name
    this.client = client
    this.w = rawWorkloads(client.exec)
    this.db = new Kysely({ dialect: new RawKyselyDialect(client) })
    this.k = kyselyWorkloads(this.db)
    this.k.checkCompiledSql()
    // The same worker over a MessagePort from this same tab (is a port slower than Worker.postMessage?).
    const line = new MessageChannel()
    worker.postMessage({ t: 'attach', port: line.port1 }, [line.port1])
    this.wp = rawWorkloads(new RawClient(line.port2).exec)
    // And over a port brokered by the SharedWorker (as the dialect's own active tab does).
    const brokered = await new Promise((resolve) => {
      const b = connectBroker()
      b.onmessage = (e) => e.data.t === 'port' && resolve(e.data.port)
      b.postMessage({ t: 'guest', name })
    })
    this.wb = rawWorkloads(new RawClient(brokered).exec)
    return { ms, workerOpenMs: openMs, openSteps }
  },
  /** Guest: a MessagePort into the host tab's worker, first answer. */
  async join(name) {
    const t0 = now()
    const broker = connectBroker()
    const port = await new Promise((resolve) => {
      broker.onmessage = (e) => e.data.t === 'port' && resolve(e.data.port)
      broker.postMessage({ t: 'guest', name })
    })
    const client = new RawClient(port)
    await client.exec('select 1', [])
    const ms = now() - t0
    this.name = name
    this.client = client
    this.w = rawWorkloads(client.exec)
    return { ms }
  },
  inside(name, n) {
    return this.client.inside(name, n)
  },
  /** The dialect's worker code driven from inside one worker (see probe-worker.js). */
  probe(name, n, inserts, only) {
    const worker = new Worker(new URL('./probe-worker.js', here), { type: 'module', name: `probe ${name}` })
    return new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        if (!only) worker.terminate()
        e.data.error ? reject(new Error(e.data.error)) : resolve(e.data)
      }
      worker.onerror = (e) => reject(new Error(e.message ?? 'probe worker failed'))
      worker.postMessage({ name, n, inserts, only })
    })
  },
  where() {
    return where([`bench-raw/${this.name}`])
  },
  heap,
}
