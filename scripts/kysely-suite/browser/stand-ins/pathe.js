// pathe's string functions on '/'-separated paths (the tests only build paths with them; using a
// path still needs the file system, which fails in node-fs.js).
export function join(...parts) {
  return parts
    .filter(Boolean)
    .join('/')
    .replace(/\/+/g, '/')
    .replace(/^(https?:)\//, '$1//')
}
export function dirname(path) {
  const i = String(path).lastIndexOf('/')
  return i <= 0 ? '/' : String(path).slice(0, i)
}
export default { join, dirname }
