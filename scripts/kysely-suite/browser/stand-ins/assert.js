// node:assert's fail(): throws, as a test assertion.
export function fail(message = 'Failed') {
  const error = new Error(typeof message === 'string' ? message : String(message))
  error.name = 'AssertionError'
  throw error
}
export default { fail }
