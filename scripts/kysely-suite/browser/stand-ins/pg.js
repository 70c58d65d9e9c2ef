import { nodeOnly } from './node-only.js'

export const Pool = nodeOnly('pg.Pool', ['connect', 'end', 'query', 'on'])
export const Client = nodeOnly('pg.Client', ['connect', 'end', 'query', 'on'])
export const DatabaseError = nodeOnly('pg.DatabaseError')
export default { Pool, Client, DatabaseError }
