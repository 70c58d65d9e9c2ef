import { expect, test } from '@playwright/test'
import { openTab, query, status, uniqueFilename } from './support/tabs.js'

test('smoke', async ({ context }) => {
  const file = uniqueFilename()
  const a = await openTab(context, file)
  expect(await query(a, 'select 1 as one')).toEqual([{ one: 1 }])
  const b = await openTab(context, file)
  expect(await query(b, 'select 2 as two')).toEqual([{ two: 2 }])
  console.log(await status(a), await status(b))
})
