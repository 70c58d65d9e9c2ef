// The tab worker, stalling after a big write (see stall-after-big-write-setup.js).
import './stall-after-big-write-setup.js'
import '/dist/tab-worker.js'
