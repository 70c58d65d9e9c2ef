// For the e2e tests: a request to /e2e/held/<key>/... gets its answer (a 404) only once the test
// requests /e2e/release/<key>, so a test can decide when, e.g., a tab's wasm fetch fails
// (Playwright's routing does not see a dedicated worker's requests). /e2e/waiting/<key> says how
// many such requests wait.
const HELD = /^\/e2e\/held\/([\w-]+)\//
const RELEASE = /^\/e2e\/release\/([\w-]+)$/
const WAITING = /^\/e2e\/waiting\/([\w-]+)$/

/** Answers the held and release requests; returns false for any other request. */
export function heldResponses() {
  const waiting = new Map() // key -> answers
  const released = new Set()
  const notFound = (res) => {
    res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
    res.end('held, then released as not found')
  }
  return (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1')
    const held = HELD.exec(pathname)
    if (held) {
      const key = held[1]
      if (released.has(key)) notFound(res)
      else waiting.set(key, [...(waiting.get(key) ?? []), () => notFound(res)])
      return true
    }
    const asked = WAITING.exec(pathname)
    if (asked) {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
      res.end(String(waiting.get(asked[1])?.length ?? 0))
      return true
    }
    const release = RELEASE.exec(pathname)
    if (release) {
      const key = release[1]
      released.add(key)
      const answers = waiting.get(key) ?? []
      waiting.delete(key)
      for (const answer of answers) answer()
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
      res.end(`released ${answers.length}`)
      return true
    }
    return false
  }
}
