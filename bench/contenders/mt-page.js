// This dialect (kysely-multitab-opfs, built from src/ by bench/build.mjs), in any tab: the first
// tab to open a database becomes the active one, the others are followers.
import { Kysely, sql } from 'kysely'
import { MultiTabOpfsDialect } from '../../src/index.ts'
import { firstAnswer, heap, where } from './page-common.js'

const now = () => performance.now()

window.bench = {
  kind: 'multitab',
  /** Opens (or joins) `filename`: ms from the call to the first answer. */
  async open(filename, options = {}) {
    const t0 = now()
    this.dialect = new MultiTabOpfsDialect({ filename, ...options })
    this.db = new Kysely({ dialect: this.dialect })
    // Hand-off events with wall-clock times, for the failover timeline.
    this.events = []
    for (const type of ['active-lost', 'active-changed']) {
      this.dialect.on(type, (e) =>
        this.events.push({ type, at: Date.now(), reason: e.reason, handoffMs: e.handoffMs, isThisTab: e.isThisTab }),
      )
    }
    return firstAnswer(this, filename, t0)
  },
  status() {
    return this.dialect.status()
  },
  metrics() {
    return this.dialect.metrics()
  },
  /** Resolves with Date.now() once a query is answered by an active tab other than `formerActive`. */
  async firstAnswerAfter(formerActive) {
    for (;;) {
      const s = await this.dialect.status()
      if (s.activeTabId && s.activeTabId !== formerActive) break
      await new Promise((r) => setTimeout(r, 1))
    }
    await sql`select 1`.execute(this.db)
    return Date.now()
  },
  where() {
    return where([`kysely-multitab/${this.filename}`])
  },
  heap,
}
