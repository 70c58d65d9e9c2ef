import { nodeOnly } from './node-only.js'

const require = nodeOnly('tsx/cjs/api.require')
export { require }
