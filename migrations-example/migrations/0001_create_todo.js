// Creates the todo list, and a log of schema changes that every later migration appends to.
export async function up(db) {
  await db.schema
    .createTable('todo')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull().defaultTo(new Date(0).toISOString()))
    .execute()
  await db.schema
    .createTable('schema_log')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('migration', 'text', (c) => c.notNull())
    .execute()
  await db.insertInto('todo').values({ title: 'Open this page in a second tab' }).execute()
  await db.insertInto('schema_log').values({ migration: '0001_create_todo' }).execute()
}

export async function down(db) {
  await db.schema.dropTable('schema_log').execute()
  await db.schema.dropTable('todo').execute()
}
