// The tab worker with neither OPFS nor IndexedDB: storage 'auto' falls back to 'memory'.
import './strip-opfs.js'
import './strip-indexeddb.js'
import '/dist/tab-worker.js'
