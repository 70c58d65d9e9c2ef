// A background tab: the active role follows the tab the user has in front. Needs a driver that
// can hide a page (WebKit's; Playwright keeps every page it drives visible, so Chromium checks
// this in e2e/background-tabs.spec.ts with a browser of its own).
import assert from 'node:assert/strict'
import { openWithTable, query, status, waitForNewActive, waitUntil } from './database-tab.js'
import type { BrowserTab } from './driver.js'
import type { Scenario } from './scenario.js'

function hide(tab: BrowserTab, hidden: boolean): Promise<void> {
  if (!tab.setHidden) throw new Error('this driver cannot hide a tab')
  return tab.setHidden(hidden)
}

const roleFollowsVisibleTab: Scenario = {
  name: 'background: the active tab hidden hands the role to the visible tab, with no write lost',
  async run(driver, coordinator) {
    const {
      active,
      followers,
      activeTabId: former,
    } = await openWithTable(driver, coordinator, 2, 'create table t (id integer primary key, n integer)')
    const other = followers[0]!
    await query(other, 'insert into t (n) values (1)')
    await hide(active, true)
    // The page learns it is hidden a moment later (the browser tells its process).
    await waitUntil(active, 'the page is hidden', () => document.visibilityState === 'hidden')
    // hiddenHandoffMs is 2 s by default.
    const next = await waitForNewActive(other, former)
    assert.equal(next, (await status(other)).tabId, 'the visible tab took the role')
    const reason = await other.evaluate(() => window.events.filter((e) => e.type === 'active-changed').at(-1)?.reason)
    assert.equal(reason, 'hidden')
    // The hidden tab is served as a follower, and every write is there once.
    await query(active, 'insert into t (n) values (2)')
    await query(other, 'insert into t (n) values (3)')
    await hide(active, false)
    assert.deepEqual(await query(active, 'select n from t order by id'), [{ n: 1 }, { n: 2 }, { n: 3 }])
  },
}

export const backgroundScenarios: Scenario[] = [roleFollowsVisibleTab]
