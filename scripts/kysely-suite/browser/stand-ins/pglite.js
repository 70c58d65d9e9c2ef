import { nodeOnly } from './node-only.js'

export const PGlite = nodeOnly('@electric-sql/pglite.PGlite', ['transaction', 'query', 'exec', 'close'])
export default { PGlite }
