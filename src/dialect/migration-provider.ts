/**
 * Migrations for Kysely's Migrator in the browser, where there is no file system to read them
 * from: from a plain object, or from a bundler's glob import.
 */
import type { Kysely } from 'kysely'

/**
 * Kysely's `Migration` (kysely 0.28 exports it from 'kysely', 0.29 only from 'kysely/migration');
 * the same shape, declared here so the package's types fit both.
 */
export interface Migration {
  up(db: Kysely<any>): Promise<void>
  down?(db: Kysely<any>): Promise<void>
}

/** A migration module as a bundler's glob import yields it: `{ up, down }`, or a default export of one. */
export type MigrationModule = Migration | { readonly default: Migration }

/**
 * Provides migrations from an object of name -> migration. Kysely runs them in name order, so
 * prefix names with a sortable number or date.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely' // kysely 0.29: from 'kysely/migration'
 * import { BrowserMigrationProvider } from 'kysely-multitab-opfs'
 *
 * const provider = new BrowserMigrationProvider({
 *   '0001_create_todo': { up: (db) => db.schema.createTable('todo').addColumn('id', 'integer', (c) => c.primaryKey()).execute() },
 * })
 * const { error } = await new Migrator({ db, provider }).migrateToLatest()
 * ```
 *
 * It is a Kysely `MigrationProvider` by shape (not by `implements`, so its types fit kysely 0.28
 * and 0.29, which moved the migration types to 'kysely/migration').
 */
export class BrowserMigrationProvider {
  readonly #migrations: Readonly<Record<string, Migration>>

  constructor(migrations: Readonly<Record<string, MigrationModule>>) {
    const checked: Record<string, Migration> = {}
    for (const name of Object.keys(migrations).sort()) {
      checked[name] = toMigration(name, migrations[name])
    }
    this.#migrations = Object.freeze(checked)
  }

  /**
   * Provides the modules of a bundler glob import, named by file name without folder and
   * extension (`./migrations/0001_create.ts` -> `0001_create`).
   *
   * @example
   * ```ts
   * // Vite: every file in ./migrations, loaded eagerly
   * const provider = BrowserMigrationProvider.fromGlob(import.meta.glob('./migrations/*.ts', { eager: true }))
   * ```
   */
  static fromGlob(modules: Readonly<Record<string, unknown>>): BrowserMigrationProvider {
    const migrations: Record<string, MigrationModule> = {}
    for (const [path, module] of Object.entries(modules)) {
      if (typeof module === 'function') {
        throw new TypeError(
          `Migration ${path} is a lazy import: pass the glob's { eager: true } form (Kysely needs all migrations at once)`,
        )
      }
      const name = path.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '')
      if (name in migrations) throw new TypeError(`Two migrations are named ${name} (${path})`)
      migrations[name] = module as MigrationModule
    }
    return new BrowserMigrationProvider(migrations)
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...this.#migrations }
  }
}

function toMigration(name: string, value: unknown): Migration {
  const candidate =
    value && typeof value === 'object' && 'default' in value && typeof (value as { up?: unknown }).up !== 'function'
      ? (value as { default: unknown }).default
      : value
  const migration = candidate as Partial<Migration> | undefined
  if (!migration || typeof migration.up !== 'function') {
    throw new TypeError(`Migration ${name} has no up() function`)
  }
  if (migration.down !== undefined && typeof migration.down !== 'function') {
    throw new TypeError(`Migration ${name} has a down that is not a function`)
  }
  return { up: migration.up, ...(migration.down ? { down: migration.down } : {}) }
}
