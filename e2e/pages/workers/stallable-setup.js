// Imported first by stallable.js: this tab worker stalls (a busy loop, as a stuck or frozen worker
// would: no heartbeat, no message handled) for the milliseconds its page posts on the
// BroadcastChannel named after the `tag` in this worker's URL, then says when it woke up.
const tag = new URL(self.location.href).searchParams.get('tag')
if (tag) {
  const channel = new BroadcastChannel(`stall:${tag}`)
  channel.onmessage = (event) => {
    if (typeof event.data !== 'number') return
    const end = performance.now() + event.data
    while (performance.now() < end) {
      // stalled
    }
    channel.postMessage({ wokeAt: Date.now() })
  }
}
