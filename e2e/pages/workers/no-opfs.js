// The tab worker without OPFS: storage 'auto' falls back to 'idb'.
import './strip-opfs.js'
import '/dist/tab-worker.js'
