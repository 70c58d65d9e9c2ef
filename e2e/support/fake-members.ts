import type { Page } from '@playwright/test'
import { PROTOCOL_VERSION } from '../../src/protocol/message-fields.js'

/** What a page script needs to join a coordinator as a "tab" of its own (see installFakeMembers). */
export interface FakeMembers {
  /** An identity of its own: an id that is its secret's hash (as src/protocol/tab-identity.ts makes them). */
  identity(secret?: string): Promise<{ tabId: string; secret: string }>
  /** Holds the tab lock of `tabId` (resolved once held: a tab lock the coordinator gets is a tab gone). */
  holdLock(name: string, tabId: string): Promise<() => void>
  /** Posts a join for `fields.tabId` on `port`, with defaults for what is not given. */
  join(
    port: MessagePort,
    name: string,
    fields: { tabId: string; secret: string; workerPort: MessagePort; [k: string]: unknown },
  ): void
}

/** Gives the page `window.fakeMembers` (a {@link FakeMembers}), as a stray script of the origin could write it. */
export async function installFakeMembers(page: Page): Promise<void> {
  await page.evaluate((version) => {
    const members: FakeMembers = {
      async identity(secret = crypto.randomUUID()) {
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)))
        return { tabId: [...digest.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(''), secret }
      },
      async holdLock(name, tabId) {
        let release = () => {}
        await new Promise<void>(
          (held) => void navigator.locks.request(`${name}:tab:${tabId}`, () => (held(), new Promise<void>((r) => (release = r)))),
        )
        return release
      },
      join(port, name, fields) {
        const join = {
          t: 'join',
          v: version,
          epoch: 0,
          holder: false,
          hangTimeoutMs: 1000,
          visible: true,
          tabLock: `${name}:tab:${fields.tabId}`,
          ...fields,
        }
        port.postMessage(join, [fields.workerPort])
      },
    }
    Object.assign(window, { fakeMembers: members })
  }, PROTOCOL_VERSION)
}
