// Imported first by exclusive-handles.js: this worker's browser admits one sync access handle per
// file in every mode, as Firefox and Safari do (a `mode` asked for is ignored).
const open = FileSystemFileHandle.prototype.createSyncAccessHandle
FileSystemFileHandle.prototype.createSyncAccessHandle = function () {
  return open.call(this)
}
