// `fileURLToPath(import.meta.url)`: in the page a test file's URL is http://.../tests/x.test.js,
// and that URL is what its stack frames show, as a file path does in Node. Other URLs throw.
export function fileURLToPath(url) {
  const href = String(url)
  if (/^https?:/.test(href)) return href
  throw new Error(`node:url.fileURLToPath(${href}): a Node-only module, replaced by a stand-in in the browser run`)
}
export default { fileURLToPath }
