// Migrations from many tabs at once: every tab runs Kysely's Migrator at start-up, as an app does;
// each migration runs once, every tab's call settles, and all see the migrated schema.
import assert from 'node:assert/strict'
import { openDatabaseTabs, query, uniqueFilename } from './database-tab.js'
import type { Scenario } from './scenario.js'

const TABS = 6

const migratorInEveryTab: Scenario = {
  name: `migrations: ${TABS} tabs run the Migrator at once; each migration runs once`,
  async run(driver, coordinator) {
    const tabs = await openDatabaseTabs(driver, uniqueFilename(), coordinator, TABS)
    const outcomes = await Promise.all(
      tabs.map((tab) =>
        tab.evaluate(async () => {
          const { Migrator, sql } = window.harness
          const migrations = {
            '001_note': {
              up: async (db: any) => {
                await db.schema
                  .createTable('note')
                  .addColumn('id', 'integer', (c: any) => c.primaryKey())
                  .execute()
              },
            },
            '002_body': {
              up: async (db: any) => {
                await db.schema.alterTable('note').addColumn('body', 'text').execute()
                await sql`insert into note (body) values ('seeded')`.execute(db)
              },
            },
          }
          const migrator = new Migrator({ db: window.db, provider: { getMigrations: async () => migrations } })
          // The README's loop: a retryable error (another tab's migration held the database, or a
          // hand-off) means run it again.
          for (let attempt = 0; attempt < 5; attempt++) {
            const { error, results } = await migrator.migrateToLatest()
            if (!error)
              return { ran: (results ?? []).filter((r: any) => r.status === 'Success').map((r: any) => r.migrationName) }
            if (!(error as any).retryable) return { error: `${(error as Error).name}: ${(error as Error).message}` }
          }
          return { error: 'still failing after 5 attempts' }
        }),
      ),
    )
    assert.deepEqual(
      outcomes.filter((o) => 'error' in o),
      [],
      'every tab migrated',
    )
    const ran = outcomes.flatMap((o) => ('ran' in o ? o.ran : [])).sort()
    assert.deepEqual(ran, ['001_note', '002_body'], 'each migration ran once, in some tab')
    for (const tab of tabs) assert.deepEqual(await query(tab, 'select body from note'), [{ body: 'seeded' }])
  },
}

export const migrationScenarios: Scenario[] = [migratorInEveryTab]
