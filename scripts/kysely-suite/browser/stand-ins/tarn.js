import { nodeOnly } from './node-only.js'

export const Pool = nodeOnly('tarn.Pool', ['acquire', 'release', 'destroy'])
export default { Pool }
