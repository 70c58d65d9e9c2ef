import { nodeOnly } from './node-only.js'

export const createPool = nodeOnly('mysql2.createPool')
export const createConnection = nodeOnly('mysql2.createConnection')
export default { createPool, createConnection }
