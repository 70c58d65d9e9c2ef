// Imported first by the worker wrappers: this worker's browser lacks OPFS sync access handles.
delete FileSystemFileHandle.prototype.createSyncAccessHandle
