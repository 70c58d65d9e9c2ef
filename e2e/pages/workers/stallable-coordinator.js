// The coordinator, as a Web Locks host worker that stalls on its page's request (see
// stallable-setup.js): as a frozen host tab's coordinator would, it says nothing and keeps its locks.
import './stallable-setup.js'
import '/dist/coordinator.js'
