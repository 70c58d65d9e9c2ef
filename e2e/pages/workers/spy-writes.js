// The tab worker, telling each change it makes to a file (see spy-writes-setup.js).
import './spy-writes-setup.js'
import '/dist/tab-worker.js'
