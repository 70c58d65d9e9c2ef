import { describe, expect, it } from 'vitest'
import { BrowserMigrationProvider } from '../src/dialect/migration-provider.js'

const up = async () => {}

describe('BrowserMigrationProvider', () => {
  it('provides migrations from an object, in name order', async () => {
    const provider = new BrowserMigrationProvider({ '0002_b': { up }, '0001_a': { up, down: up } })
    const migrations = await provider.getMigrations()
    expect(Object.keys(migrations)).toEqual(['0001_a', '0002_b'])
    expect(migrations['0001_a']!.down).toBe(up)
  })

  it('names glob modules by file name and accepts default exports', async () => {
    const provider = BrowserMigrationProvider.fromGlob({
      './migrations/0002_add_done.ts': { default: { up } },
      '/src/migrations/0001_create.js': { up },
    })
    expect(Object.keys(await provider.getMigrations())).toEqual(['0001_create', '0002_add_done'])
  })

  it('rejects lazy globs, duplicates and migrations without up()', () => {
    expect(() => BrowserMigrationProvider.fromGlob({ './m/0001.ts': () => import('node:path') })).toThrow(/eager: true/)
    expect(() => BrowserMigrationProvider.fromGlob({ './a/0001.ts': { up }, './b/0001.js': { up } })).toThrow(/Two migrations/)
    expect(() => new BrowserMigrationProvider({ '0001': {} as never })).toThrow(/no up\(\)/)
  })
})
