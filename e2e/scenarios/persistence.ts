// Persistence: what was written survives closing the browser and starting it again on the same
// profile and origin (OPFS storage is per profile and origin).
import assert from 'node:assert/strict'
import type { BrowserTab } from './driver.js'
import { assertCoordinator, openDatabase, openDatabaseTabs, query, uniqueFilename } from './database-tab.js'
import type { Scenario } from './scenario.js'

const browserRestart: Scenario = {
  name: 'persistence: writes from two tabs survive a browser restart',
  async run(driver, coordinator) {
    const file = uniqueFilename()
    const [a, b] = (await openDatabaseTabs(driver, file, coordinator, 2)) as [BrowserTab, BrowserTab]
    await query(a, 'create table kept (id integer primary key, v text)')
    await query(a, "insert into kept (v) values ('from a')")
    await b.evaluate(() =>
      window.db.transaction().execute(async (trx: any) => {
        await trx.insertInto('kept').values({ v: 'from b, tx 1' }).execute()
        await trx.insertInto('kept').values({ v: 'from b, tx 2' }).execute()
      }),
    )
    await assertCoordinator([a, b], coordinator)

    await driver.restart()
    const c = await openDatabase(driver, file, coordinator)
    const rows = await query<{ v: string }>(c, 'select v from kept order by id')
    assert.deepEqual(
      rows.map((r) => r.v),
      ['from a', 'from b, tx 1', 'from b, tx 2'],
    )
    assert.deepEqual(await query(c, 'pragma integrity_check'), [{ integrity_check: 'ok' }])
    await assertCoordinator([c], coordinator)
  },
}

export const persistenceScenarios: Scenario[] = [browserRestart]
