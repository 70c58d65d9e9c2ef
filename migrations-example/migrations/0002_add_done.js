// Adds a done flag to every todo.
export async function up(db) {
  await db.schema
    .alterTable('todo')
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.insertInto('schema_log').values({ migration: '0002_add_done' }).execute()
}

export async function down(db) {
  await db.schema.alterTable('todo').dropColumn('done').execute()
}
