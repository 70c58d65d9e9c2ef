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

/**
 * After the freeze: each tab writes 3 rows (`after<n>-*`), all acknowledged. Then every
 * acknowledged write is there once, the 3 written before the freeze (`before-*`) and those
 * `during` it too, and nothing else; the file is sound.
 */
export async function writeAfterAndCheck(tabs: readonly Page[], during: ReadonlyArray<{ key: string }>): Promise<void> {
  const after = []
  for (const [n, tab] of tabs.entries()) {
    const rows = await writeRows(tab, `after${n}`, 3)
    expect(rows.filter((o) => !o.ok)).toEqual([])
    after.push(...rows)
  }
  const reader = tabs[0]!
  const rows = await query<{ k: string; n: number }>(reader, 'select k, count(*) as n from t group by k')
  const keys = (o: { key: string }) => (Number(o.key.split('-').at(-1)) % 3 === 2 ? [o.key, `${o.key}-2nd`] : [o.key])
  const acked = ['before-0', 'before-1', 'before-2', 'before-2-2nd', ...[...during, ...after].flatMap(keys)]
  expect(new Map(rows.map((r) => [r.k, r.n]))).toEqual(new Map(acked.map((k) => [k, 1])))
  expect(await query(reader, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }])
}
