/**
 * Whether this page is in front of the user, as the coordinator needs to know it (see
 * coordinator/visibility-policy.ts). A page about to be frozen or kept in the back/forward cache
 * counts as hidden whatever `visibilityState` says; one resumed or restored counts as it is.
 */

/** Whether the page is visible now (true where there is no document, e.g. a worker). */
export function pageVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden'
}

/** Calls `changed` when the page is shown or hidden; returns the function that stops it. */
export function watchVisibility(changed: (visible: boolean) => void): () => void {
  if (typeof document === 'undefined') return () => {}
  const now = () => changed(pageVisible())
  const hidden = () => changed(false)
  const hiddenIfKept = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) changed(false)
  }
  document.addEventListener('visibilitychange', now)
  // Chromium's lifecycle events; elsewhere they never fire.
  document.addEventListener('freeze', hidden)
  document.addEventListener('resume', now)
  globalThis.addEventListener('pagehide', hiddenIfKept)
  globalThis.addEventListener('pageshow', now)
  return () => {
    document.removeEventListener('visibilitychange', now)
    document.removeEventListener('freeze', hidden)
    document.removeEventListener('resume', now)
    globalThis.removeEventListener('pagehide', hiddenIfKept)
    globalThis.removeEventListener('pageshow', now)
  }
}
