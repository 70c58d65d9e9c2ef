// Imported first by the worker wrappers: this worker's browser lacks OPFS.
delete StorageManager.prototype.getDirectory
