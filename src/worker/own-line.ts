/**
 * Under the Web Locks coordinator, a worker's own tab swaps the channel line it was routed on for
 * a MessagePort (see TabClient #routeLine): the same line, without the trip through the browser
 * process. The coordinator's `attach` and the tab's port arrive by different paths, in either
 * order: whichever comes first waits here, by the line's name, for the other.
 */
type Half = MessagePort | ((port: MessagePort) => void)

const waiting = new Map<string, Half>()

export function meet(name: string, half: Half): void {
  const other = waiting.get(name)
  if (other === undefined || other instanceof MessagePort === half instanceof MessagePort) {
    waiting.clear() // only the latest route matters
    waiting.set(name, half)
    return
  }
  waiting.delete(name)
  if (half instanceof MessagePort) (other as (port: MessagePort) => void)(half)
  else half(other as MessagePort)
}
