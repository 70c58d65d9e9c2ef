import { nodeOnly, nodeOnlyValue } from './node-only.js'

export const Connection = nodeOnly('tedious.Connection', [
  'beginTransaction',
  'commitTransaction',
  'rollbackTransaction',
  'saveTransaction',
  'connect',
  'close',
  'execSql',
  'reset',
  'cancel',
  'on',
  'once',
  'off',
])
export const Request = nodeOnly('tedious.Request', ['pause', 'resume', 'on', 'once', 'off', 'addParameter'])
export const ISOLATION_LEVEL = nodeOnlyValue('tedious.ISOLATION_LEVEL')
export const TYPES = nodeOnlyValue('tedious.TYPES')
export default { Connection, Request, ISOLATION_LEVEL, TYPES }
