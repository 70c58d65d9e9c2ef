/**
 * A tab's identity: a random secret, and an id derived from it (the first 128 bits of its SHA-256,
 * in hex). Ids are public (every member gets the roster); the secret never leaves the tab except
 * in its joins. Because the id is the secret's hash, any coordinator, including one that just
 * restarted and has never seen the tab, can tell a join that brings the tab's secret from a
 * script that only knows its id.
 */
export interface TabIdentity {
  readonly tabId: string
  readonly secret: string
}

export async function newTabIdentity(): Promise<TabIdentity> {
  const secret = crypto.randomUUID()
  return { tabId: await tabIdOf(secret), secret }
}

/** Whether `secret` is the one `tabId` was derived from. */
export async function ownsTabId(tabId: string, secret: string): Promise<boolean> {
  return (await tabIdOf(secret)) === tabId
}

async function tabIdOf(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)))
  let hex = ''
  for (const byte of digest.subarray(0, 16)) hex += byte.toString(16).padStart(2, '0')
  return hex
}
