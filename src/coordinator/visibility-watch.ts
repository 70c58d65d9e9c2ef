/**
 * The role follows the user (see visibility-policy.ts): once the active tab has been hidden for
 * its `hiddenHandoffMs` while another tab is visible, the role moves to that one. This keeps each
 * tab's visibility in its lines and looks whenever a tab is shown or hidden, joins or leaves, and
 * when a tab starts serving; a verdict due later sets one timer, which every look replaces.
 */
import type { DebugLog } from '../protocol/debug-log.js'
import type { Candidates } from './candidates.js'
import type { BrowserEnv } from '../protocol/browser-env.js'
import type { LineTable } from './line-table.js'
import type { TabRegistry } from './tab-registry.js'
import { visibleSuccessor } from './visibility-policy.js'

export interface VisibilityHooks {
  /** An election or a hand-off is under way: the role is not moved meanwhile. */
  readonly busy: () => boolean
  /** The role goes to `tabId`. */
  readonly moveTo: (tabId: string) => void
  readonly log: DebugLog
}

export class VisibilityWatch {
  readonly #env: Pick<BrowserEnv, 'now' | 'setTimeout' | 'clearTimeout'>
  readonly #registry: TabRegistry
  readonly #candidates: Candidates
  readonly #lines: LineTable
  readonly #hooks: VisibilityHooks
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    env: Pick<BrowserEnv, 'now' | 'setTimeout' | 'clearTimeout'>,
    registry: TabRegistry,
    candidates: Candidates,
    lines: LineTable,
    hooks: VisibilityHooks,
  ) {
    this.#env = env
    this.#registry = registry
    this.#candidates = candidates
    this.#lines = lines
    this.#hooks = hooks
  }

  /** The member `tabId` says its page was shown or hidden. */
  changed(tabId: string, visible: boolean): void {
    const lines = this.#lines.get(tabId)!
    if (lines.visible === visible) return
    lines.visible = visible
    lines.visibleSince = this.#env.now()
    if (visible) this.#candidates.shown(tabId)
    this.look()
  }

  look(): void {
    this.#env.clearTimeout(this.#timer)
    this.#timer = undefined
    const activeId = this.#registry.active
    const active = activeId && this.#lines.get(activeId)
    // Not while an election or a hand-off is under way: it looks again once the role is served.
    if (!active || !this.#registry.ready || this.#hooks.busy()) return
    const others = [...this.#lines.entries()]
      .filter(([tabId]) => tabId !== activeId && this.#candidates.followable(tabId))
      .map(([tabId, lines]) => ({ tabId, visible: lines.visible, since: lines.visibleSince }))
    const now = this.#env.now()
    const verdict = visibleSuccessor(
      { tabId: activeId, visible: active.visible, since: active.visibleSince },
      others,
      active.hiddenHandoffMs,
      now,
    )
    if (!verdict) return
    if ('at' in verdict) {
      this.#timer = this.#env.setTimeout(() => this.look(), verdict.at - now)
      return
    }
    this.#hooks.log('the active tab is hidden: the role goes to a visible tab', { from: activeId, to: verdict.tabId })
    this.#hooks.moveTo(verdict.tabId)
  }
}
