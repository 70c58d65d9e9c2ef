// Peer: kysely-wasqlite-worker (@subframe7536/sqlite-wasm, wa-sqlite's OPFSCoopSyncVFS), its worker
// bundled as an ES module next to this page's bundle. `preferOPFS: true`, else it stores in
// IndexedDB (checked after each run: where()).
import { Kysely } from 'kysely'
import { WaSqliteWorkerDialect } from 'kysely-wasqlite-worker'
import { firstAnswer, heap, where } from './page-common.js'

const here = new URL('.', import.meta.url)
const now = () => performance.now()

window.bench = {
  kind: 'kysely-wasqlite-worker',
  async open(filename) {
    const t0 = now()
    this.db = new Kysely({
      dialect: new WaSqliteWorkerDialect({
        fileName: filename,
        preferOPFS: true,
        worker: () => new Worker(new URL('./kww-worker.js', here), { type: 'module', name: `kww ${filename}` }),
        url: () => new URL('./wa-sqlite.wasm', here).href,
      }),
    })
    return firstAnswer(this, filename, t0)
  },
  where() {
    return where([this.filename])
  },
  heap,
}
