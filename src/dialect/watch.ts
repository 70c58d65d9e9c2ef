/**
 * `watch`: run a query now, and again whenever a table it reads changes (in any tab), coalescing
 * bursts into one re-run. The tables are those SQLite itself reports for the compiled statement,
 * so views and subqueries are resolved to the tables underneath.
 */
import type { CompiledQuery } from 'kysely'
import type { TabClient } from '../client/tab-client.js'

/** Anything with Kysely's `execute()` and `compile()`, e.g. a select query builder. */
export interface WatchableQuery<R> {
  execute(): Promise<R[]>
  compile(): CompiledQuery
}

export interface WatchOptions {
  /**
   * Coalesce re-runs: at most one per animation frame (the default, `'frame'`; outside a page,
   * 16 ms), or one per this many milliseconds.
   */
  readonly debounce?: 'frame' | number
  /** Called when a run fails (default: console.error). Watching goes on. */
  readonly onError?: (error: unknown) => void
}

export function watchQuery<R>(
  client: TabClient,
  query: WatchableQuery<R>,
  callback: (rows: R[]) => void,
  options: WatchOptions = {},
): () => void {
  const onError = options.onError ?? ((error: unknown) => console.error('kysely-multitab: watch query failed', error))
  let stopped = false
  let scheduled = false
  let running = false
  let again = false
  let unsubscribe: (() => void) | undefined

  const run = async (): Promise<void> => {
    if (running) {
      again = true
      return
    }
    running = true
    try {
      do {
        again = false
        const rows = await query.execute()
        if (!stopped) callback(rows)
      } while (again && !stopped)
    } catch (error) {
      if (!stopped) onError(error)
    } finally {
      running = false
    }
  }

  const schedule = (): void => {
    if (scheduled || stopped) return
    scheduled = true
    const fire = () => {
      scheduled = false
      if (!stopped) void run()
    }
    const { debounce = 'frame' } = options
    if (debounce === 'frame' && typeof requestAnimationFrame === 'function') requestAnimationFrame(fire)
    else setTimeout(fire, debounce === 'frame' ? 16 : debounce)
  }

  // Which tables to listen to: SQLite's own answer. If it cannot answer yet (e.g. the table does
  // not exist before the migrations ran), listen to every table and ask again on the next change.
  let listening: string | undefined
  const listen = async (): Promise<void> => {
    let tables: readonly string[] | undefined
    try {
      const { reads } = await client.describe(query.compile().sql)
      tables = reads.length > 0 ? reads : undefined
    } catch {
      tables = undefined
    }
    const key = tables ? [...tables].sort().join(',') : '*'
    if (stopped || key === listening) return
    listening = key
    unsubscribe?.()
    // Subscribe before running, so no commit between the two goes unseen. After a schema change
    // (or a hand-off) the query may read other tables (a view redefined): ask SQLite again.
    unsubscribe = client.changes.add(tables, (change) =>
      tables && change.tables !== 'all' ? schedule() : void listen().then(schedule),
    )
  }

  void listen().then(run)

  return () => {
    stopped = true
    unsubscribe?.()
  }
}
