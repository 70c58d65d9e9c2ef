// The tab worker where sync access handles cannot be shared (see exclusive-handles-setup.js).
import './exclusive-handles-setup.js'
import '/dist/tab-worker.js'
