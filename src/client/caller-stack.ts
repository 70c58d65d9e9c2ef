/**
 * Where a failed query's stack gets the app's frames from. V8 gives an Error made after an await
 * the awaiting callers ("at async ..."), for free: made in the catch of the query's await, it
 * reaches the app's line. Other engines may not (SpiderMonkey does so only for debuggees), so
 * there the stack is taken before the query is sent, as it costs a few microseconds per query.
 */

/** Whether this engine puts awaiting callers in a stack (found out once, at load). */
let asyncStacks = false

async function awaited(): Promise<string> {
  await undefined
  return new Error().stack ?? ''
}

async function awaiting(): Promise<string> {
  return await awaited()
}

void awaiting().then(
  (stack) => (asyncStacks = hasAsyncFrames(stack)),
  () => {},
)

/** V8 writes "at async f", SpiderMonkey "async*f"; a minifier renames f, never the marker. */
export function hasAsyncFrames(stack: string): boolean {
  return /(^|\n)\s*(at async |async\*)/.test(stack)
}

/** Taken before a query is sent, where async stacks do not reach the app; else nothing. */
export function callerBeforeSend(): Error | undefined {
  return asyncStacks ? undefined : new Error()
}
