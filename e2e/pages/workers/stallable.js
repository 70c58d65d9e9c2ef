// The tab worker, stalled on its page's request (see stallable-setup.js).
import './stallable-setup.js'
import '/dist/tab-worker.js'
