// Imported first by refused-sync-handles.js: this worker's browser offers OPFS sync access handles
// but its storage backend refuses them, as WebKitGTK's does.
FileSystemFileHandle.prototype.createSyncAccessHandle = async function () {
  throw new DOMException('Backend does not support this operation', 'NotSupportedError')
}
