// The chaos test's workload, run in each tab: mixed reads, built and raw writes and transactions,
// each outcome recorded in a ledger the test checks against the database at the end.
window.chaos = {
  outcomes: [],
  running: false,
  async run(tabLabel, count) {
    this.running = true
    const db = window.db
    const settle = (promise) =>
      Promise.race([
        promise.then(
          () => 'ok',
          (e) => e?.name ?? 'Error',
        ),
        new Promise((resolve) => setTimeout(() => resolve('HUNG'), 45_000)),
      ])
    for (let i = 0; i < count && this.running; i++) {
      const key = `${tabLabel}-${i}`
      const pick = i % 5
      if (pick === 0) {
        const outcome = await settle(db.insertInto('ledger').values({ k: key, kind: 'single' }).execute())
        this.outcomes.push({ key, kind: 'single', outcome })
      } else if (pick === 3) {
        const { sql } = window.harness
        const outcome = await settle(sql`insert into ledger (k, kind) values (${key}, 'raw')`.execute(db))
        this.outcomes.push({ key, kind: 'raw', outcome })
      } else if (pick === 1) {
        const outcome = await settle(
          db.transaction().execute(async (trx) => {
            await trx.insertInto('ledger').values({ k: key, kind: 'tx-a' }).execute()
            // A round trip in the middle (not a timer: the test's tabs are mostly hidden, where
            // browsers run timers about once a second), so other tabs' statements queue behind it.
            await trx.selectFrom('counter').selectAll().execute()
            await trx.insertInto('ledger').values({ k: key, kind: 'tx-b' }).execute()
            await trx
              .updateTable('counter')
              .set((eb) => ({ n: eb('n', '+', 1) }))
              .where('id', '=', 1)
              .execute()
          }),
        )
        this.outcomes.push({ key, kind: 'tx', outcome })
      } else {
        const outcome = await settle(
          db
            .selectFrom('ledger')
            .select((eb) => eb.fn.countAll().as('n'))
            .execute(),
        )
        this.outcomes.push({ key, kind: 'read', outcome })
      }
    }
    this.running = false
  },
}
