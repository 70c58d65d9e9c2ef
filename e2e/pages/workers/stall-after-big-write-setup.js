// Imported first by stall-after-big-write.js: after this worker writes 8 MB or more to a file at
// once (an import's scratch copy of the incoming file), it stalls for 5 s, so that a test can
// end the tab in the middle of the import.
const write = FileSystemSyncAccessHandle.prototype.write
FileSystemSyncAccessHandle.prototype.write = function (buffer, options) {
  const written = write.call(this, buffer, options)
  if (buffer.byteLength >= 8 * 2 ** 20) {
    const end = performance.now() + 5000
    while (performance.now() < end) {
      // stalled
    }
  }
  return written
}
