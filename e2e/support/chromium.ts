// Which Chromium to test with, and its flags: see scripts/chromium.mjs (shared with the scripts).
export { chromiumArgs, chromiumExecutable } from '../../scripts/chromium.mjs'
