// The tab worker without OPFS sync access handles: storage 'auto' falls back to 'opfs'.
import './strip-sync-handles.js'
import '/dist/tab-worker.js'
