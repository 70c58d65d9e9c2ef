import { describe, expect, it } from 'vitest'
import { hasAsyncFrames } from '../src/client/caller-stack.js'

describe('caller stack', () => {
  it('tells stacks with awaiting callers (V8, SpiderMonkey) from those without', () => {
    expect(hasAsyncFrames('Error\n    at awaited (app.js:1:52)\n    at async awaiting (app.js:2:36)')).toBe(true)
    expect(hasAsyncFrames('awaited@http://x/app.js:1:52\nasync*awaiting@http://x/app.js:2:36\n')).toBe(true)
    expect(hasAsyncFrames('awaited@http://x/app.js:1:52\n')).toBe(false)
    // A function that happens to be called `async` is not a marker.
    expect(hasAsyncFrames('Error\n    at asyncThing (app.js:1:1)\n    at run (app.js:2:2)')).toBe(false)
  })
})
