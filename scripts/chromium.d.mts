export declare const chromiumArgs: string[]
export declare function chromiumExecutable(): string | undefined
export interface OwnChromium {
  readonly browser: import('@playwright/test').Browser
  readonly process: import('node:child_process').ChildProcess
  /** SIGKILL: no shutdown, no flush by the browser. */
  kill(): Promise<void>
}
export declare function startOwnChromium(userDataDir: string): Promise<OwnChromium>
