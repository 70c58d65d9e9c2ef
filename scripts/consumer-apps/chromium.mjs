// Which Chromium the browser test drives (scripts/chromium.mjs, shared by every script and the e2e tests).
import { chromium } from '@playwright/test'
import { chromiumArgs as CHROMIUM_ARGS, chromiumExecutable } from '../chromium.mjs'

export { CHROMIUM_ARGS, chromiumExecutable }

export function launchChromium() {
  return chromium.launch({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS })
}
