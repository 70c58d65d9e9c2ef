// Imported first by the worker wrappers: this worker's browser lacks IndexedDB.
Object.defineProperty(self, 'indexedDB', { value: undefined, configurable: true })
