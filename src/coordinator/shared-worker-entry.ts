/**
 * Entry point of the coordinator SharedWorker. The browser runs one per (script URL, name), and
 * the name is derived from the database filename, so every tab of one database meets here.
 */
import { Coordinator } from './coordinator.js'

declare const self: SharedWorkerGlobalScope

const coordinator = new Coordinator()

self.onconnect = (event: MessageEvent) => {
  const port = event.ports[0]
  if (port) coordinator.connect(port)
}
