/**
 * The seam between the cross-engine scenarios and a browser automation library. Playwright drives
 * Chromium (e2e/cross-engine.spec.ts) and puppeteer-core drives Firefox over WebDriver BiDi
 * (e2e/firefox/), so the scenarios see only this: open a tab, run a function in it, close it,
 * restart the browser.
 */

/** One tab (page) showing a page of the e2e server. */
export interface BrowserTab {
  /**
   * Runs `fn` in the page and returns its (awaited) result. `fn` is sent as source text: it may use
   * only its argument and the page's globals, and argument and result must be plain data.
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>
  /** Closes the tab as a user would (unload handlers run). */
  close(): Promise<void>
  /**
   * Puts the tab behind others (its page hidden, as a background tab) or in front again. Only
   * drivers that can hide a page have it; the scenarios that need it run only with those.
   */
  setHidden?(hidden: boolean): Promise<void>
}

export interface BrowserDriver {
  /** 'chromium', 'firefox' or 'webkit': for messages only; scenarios do not branch on it. */
  readonly engine: string
  /** Opens `path` of the e2e server in a new tab, in the foreground, and waits for it to load. */
  openTab(path: string): Promise<BrowserTab>
  /**
   * Closes the browser and starts it again on the same profile, against the same origin (OPFS is
   * per profile and origin). Every tab opened before is gone.
   */
  restart(): Promise<void>
}
