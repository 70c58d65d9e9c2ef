// Adds a search column and backfills it from existing titles. Run twice, the suffix would double:
// the e2e tests check it appears once.
export async function up(db) {
  await db.schema.alterTable('todo').addColumn('search', 'text').execute()
  await db
    .updateTable('todo')
    .set((eb) => ({ search: eb.fn('lower', ['title']) }))
    .execute()
  await db
    .updateTable('todo')
    .set((eb) => ({ search: eb('search', '||', ' #todo') }))
    .execute()
  await db.insertInto('schema_log').values({ migration: '0003_backfill_search' }).execute()
}

export async function down(db) {
  await db.schema.alterTable('todo').dropColumn('search').execute()
}
