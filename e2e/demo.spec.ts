import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { uniqueFilename } from './support/tabs.js'

// Screenshots a person can look at (test-results/ is git-ignored). CI keeps no artifacts, so it
// takes none (they cost about half of this test's time); DEMO_SHOTS=1 takes them there too.
const SHOTS = join('test-results', 'demo')
const PICTURES = !process.env.CI || process.env.DEMO_SHOTS === '1'

test.use({ viewport: { width: 1280, height: 900 } })

/** Opens the demo page in a new tab of the context, on the test's own database. */
async function openDemo(context: BrowserContext, db: string): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.log(`[pageerror] ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' || process.env.E2E_VERBOSE) console.log(`[console.${message.type()}] ${message.text()}`)
  })
  await page.goto(`/demo/?db=${encodeURIComponent(db)}`)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  return page
}

const tabIdOf = (page: Page) => page.evaluate(async () => (await (window as any).demo.dialect.status()).tabId as string)
const roleOf = (page: Page) => page.locator('body').getAttribute('data-role')

async function shot(page: Page, name: string): Promise<string> {
  const path = join(SHOTS, `${name}.png`)
  if (PICTURES) await page.screenshot({ path, fullPage: true })
  return path
}

/** One picture of several tabs side by side, each with a caption. */
async function sideBySide(context: BrowserContext, name: string, shots: Array<{ caption: string; path: string }>): Promise<void> {
  if (!PICTURES) return
  const images = await Promise.all(shots.map(async (s) => `data:image/png;base64,${(await readFile(s.path)).toString('base64')}`))
  const page = await context.newPage()
  await page.setViewportSize({ width: 1000 * shots.length, height: 800 })
  await page.setContent(`<!doctype html>
    <style>
      body { margin: 0; padding: 16px; background: #2b3142; display: flex; gap: 16px; align-items: flex-start; font: 600 20px system-ui, sans-serif; }
      figure { margin: 0; flex: 1; min-width: 0; }
      figcaption { color: #fff; margin: 0 0 8px; }
      img { width: 100%; display: block; border-radius: 8px; }
    </style>
    ${shots.map((s, i) => `<figure><figcaption>${s.caption}</figcaption><img src="${images[i]}"></figure>`).join('')}`)
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  await page.close()
}

test('demo: three tabs share the todo list live, and the survivors log the hand-off when the active tab closes', async ({
  context,
}) => {
  test.setTimeout(120_000)
  await mkdir(SHOTS, { recursive: true })
  const db = uniqueFilename('demo')
  const first = await openDemo(context, db)
  await expect(first.locator('body')).toHaveAttribute('data-role', 'active')
  // Its log tells of its own election, with no tab before it. The reason is 'elected', or 'hung'
  // when a loaded machine keeps the first worker from showing progress while it opens the file.
  const firstId = await tabIdOf(first)
  await expect(first.locator(`#log li[data-kind="handoff"][data-to="${firstId}"]:not([data-from])`))
    .toHaveCount(1)
    .catch(async (error: Error) => {
      throw new Error(`${error.message}\nThe first tab's log:\n${await first.locator('#log').innerText()}`)
    })
  await expect(first.locator('#step-down')).toBeDisabled() // no other tab to hand the role to
  await shot(first, '0-first-tab')
  const tabs = [first, await openDemo(context, db), await openDemo(context, db)]

  // Every tab lists the three tabs, the same one of them active; this tab's role matches.
  const ids = await Promise.all(tabs.map(tabIdOf))
  for (const tab of tabs) {
    await expect(tab.locator('#tabs li')).toHaveCount(3)
    await expect(tab.locator('#tabs li.is-active')).toHaveCount(1)
  }
  const activeId = await tabs[0]!.locator('#tabs li.is-active').getAttribute('data-tab-id')
  expect(ids).toContain(activeId)
  for (const tab of tabs) await expect(tab.locator('#tabs li.is-active')).toHaveAttribute('data-tab-id', activeId!)
  const active = tabs[ids.indexOf(activeId!)]!
  const [writer, reader] = tabs.filter((t) => t !== active) as [Page, Page]
  expect(await roleOf(active)).toBe('active')
  expect(await roleOf(writer)).toBe('follower')
  await expect(writer.locator('#role-line')).toContainText('Queries from this tab go to')

  // Migrations ran once, in some tab; the list has the first migration's todo.
  for (const tab of tabs) await expect(tab.locator('#list li')).toHaveText(['Open this page in a second tab'])

  // A todo added in a follower shows up in the other follower and in the active tab.
  await writer.locator('#title').fill('Buy oat milk')
  await writer.locator('#add-button').click()
  for (const tab of tabs) await expect(tab.locator('#list li', { hasText: 'Buy oat milk' })).toBeVisible()
  await active.locator('#title').fill('Water the plants')
  await active.locator('#title').press('Enter')
  await expect(reader.locator('#list li', { hasText: 'Water the plants' })).toBeVisible()

  // Ticked off in the other follower: done in every tab.
  await reader.locator('#list li', { hasText: 'Buy oat milk' }).getByRole('checkbox').check()
  for (const tab of tabs) {
    await expect(tab.locator('#list li.done', { hasText: 'Buy oat milk' })).toBeVisible()
    await expect(tab.locator('#list li', { hasText: 'Buy oat milk' }).getByRole('checkbox')).toBeChecked()
  }
  if (PICTURES) await reader.waitForTimeout(1500) // let the latency chart draw a few points
  const before = [
    { caption: `Active tab (${activeId!.slice(0, 4).toUpperCase()})`, path: await shot(active, '1-active-tab') },
    { caption: 'Follower (added “Buy oat milk”)', path: await shot(writer, '1-follower-writer') },
    { caption: 'Follower (ticked it off)', path: await shot(reader, '1-follower-reader') },
  ]
  await sideBySide(context, '1-three-tabs', before)

  // The active tab closes: both survivors log the hand-off from it, with its reason, and agree on
  // the new active tab, which is one of them.
  await active.close()
  for (const tab of [writer, reader]) {
    const handoff = tab.locator(`#log li[data-kind="handoff"][data-from="${activeId}"]`)
    await expect(handoff).toHaveCount(1, { timeout: 20_000 })
    await expect(handoff).toHaveAttribute('data-reason', /^(closed|crashed)$/)
    await expect(handoff.locator('.reason')).toHaveText(/^(closed|crashed)$/)
    await expect(tab.locator('#tabs li')).toHaveCount(2)
    await expect(tab.locator(`#log li[data-kind="tabs"][data-left="${activeId}"]`)).toHaveCount(1)
  }
  const newActiveId = await writer.locator(`#log li[data-kind="handoff"][data-from="${activeId}"]`).getAttribute('data-to')
  expect([ids[tabs.indexOf(writer)], ids[tabs.indexOf(reader)]]).toContain(newActiveId)
  await expect(reader.locator(`#log li[data-kind="handoff"][data-from="${activeId}"]`)).toHaveAttribute('data-to', newActiveId!)
  const newActive = ids[tabs.indexOf(writer)] === newActiveId ? writer : reader
  const follower = newActive === writer ? reader : writer
  await expect(newActive.locator('body')).toHaveAttribute('data-role', 'active')
  await expect(follower.locator('body')).toHaveAttribute('data-role', 'follower')

  // The data is all there, and writes keep flowing from the remaining follower.
  await follower.locator('#title').fill('Written after the hand-off')
  await follower.locator('#add-button').click()
  await expect(newActive.locator('#list li')).toHaveText([
    'Open this page in a second tab',
    /Buy oat milk/,
    /Water the plants/,
    /Written after the hand-off/,
  ])
  await expect(newActive.locator('#handoff-last')).not.toHaveText('—')
  if (PICTURES) await follower.waitForTimeout(1000)
  const after = [
    { caption: 'New active tab, after the hand-off', path: await shot(newActive, '2-after-close-new-active') },
    { caption: 'Follower, after the hand-off', path: await shot(follower, '2-after-close-follower') },
  ]
  await sideBySide(context, '2-after-close', after)

  // "Make this tab active" in the follower moves the role; the other tab logs it as manual.
  await follower.locator('#claim').click()
  await expect(follower.locator('body')).toHaveAttribute('data-role', 'active')
  await expect(newActive.locator('body')).toHaveAttribute('data-role', 'follower')
  await expect(newActive.locator('#log li[data-kind="handoff"][data-reason="manual"]')).toHaveCount(1)
  await expect(follower.locator('#step-down')).toBeEnabled()
  await expect(follower.locator('#claim')).toBeDisabled()
  await expect(newActive.locator('#claim')).toBeEnabled()
  if (PICTURES) await follower.waitForTimeout(1000)
  await sideBySide(context, '3-make-active', [
    { caption: 'Clicked “Make this tab active”', path: await shot(follower, '3-claimed') },
    { caption: 'The other tab, now a follower', path: await shot(newActive, '3-other') },
  ])
})
