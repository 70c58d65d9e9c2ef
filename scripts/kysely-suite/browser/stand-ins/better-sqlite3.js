// better-sqlite3 is Node's SQLite. Its Database is never opened in the browser run (the sqlite
// config uses MultiTabOpfsDialect); its SqliteError, which the tests expect a failed SQLite
// statement to be an instance of, is the dialect's counterpart: the dialect's SqliteError.
import { SqliteError } from 'kysely-multitab-opfs'
import { nodeOnly } from './node-only.js'

const Database = nodeOnly('better-sqlite3.Database', ['prepare', 'close', 'exec'])
export { SqliteError }
export default Database
