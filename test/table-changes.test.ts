import { describe, expect, it, vi } from 'vitest'
import { TableChanges } from '../src/client/table-changes.js'
import { TableAccessCollector } from '../src/worker/table-access.js'

describe('TableChanges', () => {
  it('subscribes the tab while it has listeners, and filters by table', () => {
    const setSubscribed = vi.fn()
    const changes = new TableChanges(setSubscribed)
    const all: unknown[] = []
    const todo: unknown[] = []
    const offAll = changes.add(undefined, (c) => all.push(c))
    const offTodo = changes.add(['todo'], (c) => todo.push(c))
    expect(setSubscribed.mock.calls).toEqual([[true]])
    changes.committed(['person'])
    changes.committed(['todo', 'person'])
    expect(all).toHaveLength(2)
    expect(todo).toEqual([{ tables: new Set(['todo']), reason: 'commit' }])
    changes.handedOff()
    expect(todo.at(-1)).toEqual({ tables: 'all', reason: 'handoff' })
    changes.schemaChanged()
    expect(todo.at(-1)).toEqual({ tables: 'all', reason: 'schema' })
    expect(all.at(-1)).toEqual({ tables: 'all', reason: 'schema' })
    offAll()
    offTodo()
    offTodo()
    expect(setSubscribed.mock.calls).toEqual([[true], [false]])
  })

  it('a throwing listener does not stop the others', () => {
    const changes = new TableChanges(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const seen: unknown[] = []
    changes.add(undefined, () => {
      throw new Error('app bug')
    })
    changes.add(undefined, (c) => seen.push(c))
    changes.committed(['t'])
    expect(seen).toHaveLength(1)
    expect(error).toHaveBeenCalled()
    error.mockRestore()
  })
})

describe('TableAccessCollector', () => {
  it('records reads and writes while collecting, ignoring internal tables', () => {
    const collector = new TableAccessCollector((t) => t.startsWith('sqlite_'))
    collector.authorize(null, 20, 'outside', 'col') // not collecting: ignored
    collector.begin()
    collector.authorize(null, 20, 'person', 'name') // READ
    collector.authorize(null, 18, 'pet', null) // INSERT
    collector.authorize(null, 23, 'sqlite_sequence', 'seq') // UPDATE of an internal table
    collector.authorize(null, 26, 'main', 'toy') // ALTER TABLE: table in arg2; a schema change, not a write
    const access = collector.end()
    expect([...access.reads]).toEqual(['person'])
    expect([...access.writes]).toEqual(['pet'])
    expect(access.schema).toBe(true)
  })
  it('marks ROLLBACK and schema changes (not of ignored tables), and a run that compiled nothing', () => {
    const collector = new TableAccessCollector((t) => t.startsWith('_kysely'))
    collector.begin()
    collector.authorize(null, 22, 'ROLLBACK', null) // TRANSACTION
    expect(collector.end()).toMatchObject({ rollback: true })
    collector.begin()
    collector.authorize(null, 22, 'COMMIT', null)
    expect(collector.end().rollback).toBeUndefined()
    collector.begin()
    collector.authorize(null, 7, 'log_insert', 'person') // CREATE_TRIGGER on person
    expect(collector.end()).toMatchObject({ schema: true })
    collector.begin()
    collector.authorize(null, 1, 'ops_index', '_kysely_multitab_ops') // CREATE_INDEX on an ignored table
    collector.authorize(null, 2, '_kysely_multitab_ops', null) // CREATE_TABLE of it
    expect(collector.end().schema).toBeUndefined()
    collector.begin()
    collector.authorize(null, 2, 't', null, 'vacuum_db') // VACUUM's own copy
    collector.authorize(null, 18, 't', null, 'vacuum_db')
    expect(collector.endRun()).toBeUndefined()
    collector.begin()
    expect(collector.endRun()).toBeUndefined() // not compiled again during the run
    collector.begin()
    collector.authorize(null, 20, 'person', 'name')
    expect([...collector.endRun()!.reads]).toEqual(['person'])
  })
})
