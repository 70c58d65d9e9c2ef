// The tab worker where sync access handles exist but fail to open (see refused-sync-handles-setup.js).
import './refused-sync-handles-setup.js'
import '/dist/tab-worker.js'
