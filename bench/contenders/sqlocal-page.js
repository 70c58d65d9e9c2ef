// Peer: SQLocal's Kysely dialect (sqlocal/kysely: @sqlite.org/sqlite-wasm's "opfs" VFS in a
// worker). That VFS needs SharedArrayBuffer, so this page is served cross-origin isolated
// (COOP/COEP); without it SQLocal silently runs in memory (checked after each run: where()).
import { Kysely } from 'kysely'
import { SQLocalKysely } from 'sqlocal/kysely'
import { firstAnswer, heap, where } from './page-common.js'

const now = () => performance.now()

window.bench = {
  kind: 'sqlocal',
  async open(filename) {
    const t0 = now()
    this.client = new SQLocalKysely({ databasePath: filename })
    this.db = new Kysely({ dialect: this.client.dialect })
    return firstAnswer(this, filename, t0)
  },
  async where() {
    const info = await this.client.getDatabaseInfo()
    return { sqlocal: info, ...(await where([this.filename])) }
  },
  heap,
}
