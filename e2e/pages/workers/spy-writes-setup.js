// Imported first by spy-writes.js: every change this worker makes to an OPFS file (a write, a
// truncate or a flush of a sync access handle) is told on the BroadcastChannel 'spy-writes'.
const channel = new BroadcastChannel('spy-writes')
for (const method of ['write', 'truncate', 'flush']) {
  const original = FileSystemSyncAccessHandle.prototype[method]
  FileSystemSyncAccessHandle.prototype[method] = function (...args) {
    channel.postMessage({ method, at: Date.now() })
    return original.apply(this, args)
  }
}
