import { copyFile } from 'node:fs/promises'
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    // The workers are their own files: the main bundle points at them with new URL(..., import.meta.url).
    'tab-worker': 'src/worker/tab-worker-entry.ts',
    coordinator: 'src/coordinator/coordinator-entry.ts',
  },
  format: ['esm'],
  target: 'es2022',
  platform: 'browser',
  dts: { entry: { index: 'src/index.ts' } },
  // Each entry self-contained: a worker must not depend on a chunk a bundler may move.
  splitting: false,
  sourcemap: true,
  clean: true,
  external: ['kysely'],
  // wa-sqlite's JS is bundled into the worker so it always sits next to the wasm it was built with.
  noExternal: ['wa-sqlite'],
  async onSuccess() {
    await copyFile('node_modules/wa-sqlite/dist/wa-sqlite.wasm', 'dist/wa-sqlite.wasm')
    // The Asyncify build, fetched only by the storage fallbacks (no sync access handles).
    await copyFile('node_modules/wa-sqlite/dist/wa-sqlite-async.wasm', 'dist/wa-sqlite-async.wasm')
    // The worker bundles wa-sqlite's code: ship its licence with it.
    await copyFile('node_modules/wa-sqlite/LICENSE', 'dist/wa-sqlite.LICENSE')
  },
})
