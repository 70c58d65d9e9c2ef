import { chromium, expect, test } from '@playwright/test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumArgs, chromiumExecutable } from './support/chromium.js'
import { startOwnChromium } from './support/own-chromium.js'
import { openTab, query, uniqueFilename } from './support/tabs.js'

test('browser kill: every acknowledged write survives a SIGKILL of the browser while tabs write', async ({ baseURL }) => {
  test.setTimeout(120_000)
  const userDataDir = await mkdtemp(join(tmpdir(), 'kysely-multitab-kill-'))
  const file = uniqueFilename('kill')
  try {
    const own = await startOwnChromium(userDataDir)
    const context = own.browser.contexts()[0]!
    const acked: string[] = []
    const tabs = []
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage()
      await page.exposeFunction('ack', (key: string) => void acked.push(key))
      await page.goto(`${baseURL}/e2e/pages/harness.html`)
      await page.waitForFunction(() => window.harness !== undefined)
      await page.evaluate((f) => void window.harness.open(f), file)
      tabs.push(page)
    }
    await query(tabs[0]!, 'create table kept (k text not null)')
    for (const [i, page] of tabs.entries()) {
      void page
        .evaluate(async (tab) => {
          for (let n = 0; ; n++) {
            const key = `${tab}-${n}`
            if (n % 4 === 3) {
              await window.db.transaction().execute(async (trx: any) => {
                await trx
                  .insertInto('kept')
                  .values({ k: `${key}-a` })
                  .execute()
                await trx
                  .insertInto('kept')
                  .values({ k: `${key}-b` })
                  .execute()
              })
              ;(window as any).ack(`${key}-a`)
              ;(window as any).ack(`${key}-b`)
            } else {
              await window.db.insertInto('kept').values({ k: key }).execute()
              ;(window as any).ack(key)
            }
          }
        }, i)
        .catch(() => {})
    }
    await expect.poll(() => acked.length, { timeout: 30_000 }).toBeGreaterThan(150)
    await own.kill()
    const ackedAtKill = [...acked]

    const context2 = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumExecutable(),
      args: chromiumArgs,
      baseURL,
    })
    try {
      const page = await openTab(context2, file)
      const rows = await query<{ k: string }>(page, 'select k from kept')
      const present = new Set(rows.map((r) => r.k))
      const missing = ackedAtKill.filter((k) => !present.has(k))
      console.log(
        `browser kill: ${ackedAtKill.length} acknowledged, ${rows.length} rows after restart, ${missing.length} missing`,
      )
      expect(missing).toEqual([])
      expect(rows.length).toBe(present.size) // nothing twice
      expect(await query(page, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
      // Transactions are all or nothing after the kill too.
      for (const k of present) {
        if (k.endsWith('-a')) expect(present.has(`${k.slice(0, -2)}-b`)).toBe(true)
        if (k.endsWith('-b')) expect(present.has(`${k.slice(0, -2)}-a`)).toBe(true)
      }
    } finally {
      await context2.close()
    }
  } finally {
    await rm(userDataDir, { recursive: true, force: true })
  }
})
