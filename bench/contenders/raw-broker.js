// A bench SharedWorker that does for the raw rows what the dialect's coordinator does: it gives a
// second tab a MessagePort straight into the first tab's worker. Nothing passes through it after.
const hosts = new Map()
const waiting = new Map()

function broker(name, guest) {
  const host = hosts.get(name)
  const channel = new MessageChannel()
  host.postMessage({ t: 'attach', port: channel.port1 }, [channel.port1])
  guest.postMessage({ t: 'port', port: channel.port2 }, [channel.port2])
}

self.onconnect = (event) => {
  const port = event.ports[0]
  port.onmessage = (e) => {
    const { t, name } = e.data
    if (t === 'host') {
      hosts.set(name, port)
      for (const guest of waiting.get(name) ?? []) broker(name, guest)
      waiting.delete(name)
    } else if (t === 'guest') {
      if (hosts.has(name)) broker(name, port)
      else waiting.set(name, [...(waiting.get(name) ?? []), port])
    }
  }
  port.start()
}
