// What the background-tab tests write around a freeze, and how they check it: every
// acknowledged write once, nothing else.
import { expect, type Page } from '@playwright/test'
import { query } from './tabs.js'

/** Writes `count` rows keyed `<label>-<n>` one by one (every 3rd as a 2-row transaction); each key's outcome. */
export function writeRows(page: Page, label: string, count: number) {
  return page.evaluate(
    async ([label, count]) => {
      const outcomes: Array<{ key: string; ok: boolean; error?: string; ms: number }> = []
      for (let n = 0; n < count; n++) {
        const key = `${label}-${n}`
        const t0 = performance.now()
        try {
          if (n % 3 === 2) {
            await window.db.transaction().execute(async (trx: any) => {
              await trx
                .insertInto('t')
                .values({ k: `${key}` })
                .execute()
              await trx
                .insertInto('t')
                .values({ k: `${key}-2nd` })
                .execute()
            })
          } else {
            await window.db.insertInto('t').values({ k: key }).execute()
          }
          outcomes.push({ key, ok: true, ms: performance.now() - t0 })
        } catch (error: any) {
          outcomes.push({ key, ok: false, error: `${error.name}: ${error.message}`, ms: performance.now() - t0 })
        }
      }
      return outcomes
    },
    [label, count] as const,
  )
}

/** Each tab writes 3 rows under its label, all acknowledged; their outcomes. */
export async function writeAfter(tabs: ReadonlyArray<readonly [Page, string]>) {
  const after = []
  for (const [tab, label] of tabs) {
    const rows = await writeRows(tab, label, 3)
    expect(rows.filter((o) => !o.ok)).toEqual([])
    after.push(...rows)
  }
  return after
}

/**
 * Every acknowledged write is there once, the 3 written before the freeze (`before-*`) too, and
 * nothing else; the file is sound.
 */
export async function expectEachOnce(reader: Page, acknowledged: ReadonlyArray<{ key: string }>) {
  const rows = await query<{ k: string; n: number }>(reader, 'select k, count(*) as n from t group by k')
  const keys = (o: { key: string }) => (Number(o.key.split('-').at(-1)) % 3 === 2 ? [o.key, `${o.key}-2nd`] : [o.key])
  const acked = ['before-0', 'before-1', 'before-2', 'before-2-2nd', ...acknowledged.flatMap(keys)]
  expect(new Map(rows.map((r) => [r.k, r.n]))).toEqual(new Map(acked.map((k) => [k, 1])))
  expect(await query(reader, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
}
