import { describe, expect, it } from 'vitest'
import { newTabIdentity, ownsTabId } from '../src/protocol/tab-identity.js'

describe('tab identity', () => {
  it('derives the id from the secret, so only the secret proves the id', async () => {
    const a = await newTabIdentity()
    const b = await newTabIdentity()
    expect(a.tabId).toMatch(/^[0-9a-f]{32}$/)
    expect(a.tabId).not.toBe(b.tabId)
    expect(await ownsTabId(a.tabId, a.secret)).toBe(true)
    expect(await ownsTabId(a.tabId, b.secret)).toBe(false)
    expect(await ownsTabId(a.tabId, '')).toBe(false)
    expect(await ownsTabId(a.tabId, a.tabId)).toBe(false)
  })
})
