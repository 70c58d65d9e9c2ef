// All migrations, by name. With Vite this file could be one line:
//   BrowserMigrationProvider.fromGlob(import.meta.glob('./0*.js', { eager: true }))
import * as m0001 from './0001_create_todo.js'
import * as m0002 from './0002_add_done.js'
import * as m0003 from './0003_backfill_search.js'

export const migrations = {
  '0001_create_todo': m0001,
  '0002_add_done': m0002,
  '0003_backfill_search': m0003,
}
