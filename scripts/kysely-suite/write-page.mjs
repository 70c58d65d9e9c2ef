// Writes the page the browser opens: index.html (with the import map), harness.js, manifest.json.
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const browserDir = join(dirname(fileURLToPath(import.meta.url)), 'browser')

export async function writePage({ www, kyselyEntry, dialectEntry, files, exclusions, runId, timeoutMs }) {
  const importMap = { imports: { kysely: kyselyEntry, 'kysely-multitab-opfs': dialectEntry } }
  const html = await readFile(join(browserDir, 'index.html'), 'utf8')
  await writeFile(join(www, 'index.html'), html.replace('__IMPORT_MAP__', JSON.stringify(importMap)))
  await copyFile(join(browserDir, 'harness.js'), join(www, 'harness.js'))
  await writeFile(join(www, 'manifest.json'), JSON.stringify({ runId, timeoutMs, files, exclusions }, null, 2))
}
