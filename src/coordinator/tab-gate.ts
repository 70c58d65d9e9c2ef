/**
 * The coordinator's door for what tabs send. A message of another protocol version is answered
 * `rejected`; a malformed one is dropped; a join must bring the secret its tab id derives from
 * (a member's id without it is another script's: every member learns the ids from the roster).
 * Checking a secret takes a digest: what the port sends meanwhile waits, so that a tab's
 * messages are handled in the order it sent them.
 */
import { ProtocolError, serializeError } from '../protocol/errors.js'
import { PROTOCOL_VERSION, hasVersion, isCurrentVersion } from '../protocol/message-fields.js'
import { parseTabToCoordinator, type TabToCoordinator } from '../protocol/coordinator-messages.js'
import { ownsTabId } from '../protocol/tab-identity.js'
import type { Line } from '../protocol/line.js'
import { sendTab } from './wire.js'

export interface GateHooks {
  /** A well-formed message, in order, a join only once its secret checked out. */
  readonly handle: (port: Line, message: TabToCoordinator) => void
  /** The coordinator's log (a join may turn it on, see `debug`). */
  readonly log: (what: string, details?: Record<string, unknown>) => void
  /** A tab asked for the coordinator's debug log. */
  readonly debug: () => void
}

export class TabGate {
  readonly #hooks: GateHooks
  readonly #checking = new WeakMap<Line, Promise<void>>()

  constructor(hooks: GateHooks) {
    this.#hooks = hooks
  }

  /** A message from the tab on `port` (the join channel's join arrives here too). */
  receive(port: Line, data: unknown): void {
    if (hasVersion(data) && !isCurrentVersion(data)) {
      const error = new ProtocolError(
        `This tab speaks protocol version ${data.v} but the coordinator already running for this ` +
          `database speaks ${PROTOCOL_VERSION}: another tab runs a different release. Reload every tab.`,
      )
      sendTab(port, { t: 'rejected', v: PROTOCOL_VERSION, error: serializeError(error) })
      return
    }
    const message = parseTabToCoordinator(data)
    if (!message) {
      this.#hooks.log('dropped a malformed message from a tab', { data })
      return
    }
    if (message.t === 'join' && message.debug) this.#hooks.debug()
    this.#hooks.log(message.t, { tabId: message.tabId })
    const before = this.#checking.get(port)
    if (!before && message.t !== 'join') return this.#hooks.handle(port, message)
    const step = (async () => {
      await before
      if (message.t === 'join' && !(await ownsTabId(message.tabId, message.secret))) return this.#refuse(port, message.tabId)
      this.#hooks.handle(port, message)
    })().catch((error: unknown) => this.#hooks.log('failed to handle a message from a tab', { error }))
    this.#checking.set(port, step)
    void step.then(() => {
      if (this.#checking.get(port) === step) this.#checking.delete(port)
    })
  }

  #refuse(port: Line, tabId: string): void {
    this.#hooks.log('refused a join with the id of another tab', { tabId })
    const error = new ProtocolError(`Tab id ${tabId} is taken by another tab`)
    sendTab(port, { t: 'rejected', v: PROTOCOL_VERSION, error: serializeError(error) })
  }
}
