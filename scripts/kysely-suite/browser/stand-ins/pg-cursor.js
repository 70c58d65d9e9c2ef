import { nodeOnly } from './node-only.js'

export default nodeOnly('pg-cursor', ['read', 'close'])
