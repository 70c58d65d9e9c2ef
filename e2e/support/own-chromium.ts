// A Chromium started by the test itself, driven over CDP: see scripts/chromium.mjs.
export { startOwnChromium, type OwnChromium } from '../../scripts/chromium.mjs'
