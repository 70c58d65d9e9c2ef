import { nodeOnly } from './node-only.js'

export const readdir = nodeOnly('node:fs/promises.readdir')
export const readFile = nodeOnly('node:fs/promises.readFile')
export const writeFile = nodeOnly('node:fs/promises.writeFile')
export const mkdir = nodeOnly('node:fs/promises.mkdir')
export const rm = nodeOnly('node:fs/promises.rm')
export default { readdir, readFile, writeFile, mkdir, rm }
