/**
 * The role follows the user: which tab the active role should move to when the active tab is in
 * the background. Pure logic; the coordinator keeps the tabs' visibility and acts on the answer.
 *
 * A hidden active tab may be frozen by the browser at any time, with the database's files open
 * (see README, Background tabs). So once it has been hidden for `graceMs` while another tab is
 * visible, the role moves to the visible tab the user looked at last. The grace keeps a quick
 * look at another tab from moving the role there and back.
 */

export interface TabVisibility {
  readonly tabId: string
  readonly visible: boolean
  /** When the tab last became visible or hidden (a monotonic clock, ms). */
  readonly since: number
}

/** Move the role to `tabId` now; or look again at `at`; or leave it (undefined). */
export type VisibilityVerdict = { readonly tabId: string } | { readonly at: number } | undefined

/**
 * @param graceMs the active tab's own `hiddenHandoffMs`; undefined: it never moves for this
 * @param others the tabs that could take the role (not the active one, none that just failed)
 */
export function visibleSuccessor(
  active: TabVisibility,
  others: readonly TabVisibility[],
  graceMs: number | undefined,
  now: number,
): VisibilityVerdict {
  if (graceMs === undefined || active.visible) return undefined
  let best: TabVisibility | undefined
  for (const tab of others) if (tab.visible && (!best || tab.since > best.since)) best = tab
  if (!best) return undefined
  const due = active.since + graceMs
  return now >= due ? { tabId: best.tabId } : { at: due }
}
