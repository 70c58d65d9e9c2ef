import { describe, expect, it } from 'vitest'
import { chooseStorage, isRefusal, refuse } from '../src/worker/storage-choice.js'
import { StorageUnavailableError } from '../src/protocol/errors.js'

const all = { opfs: true, syncHandles: true, writable: true, indexedDb: true }

describe('chooseStorage', () => {
  it('prefers OPFS sync access handles, with no reason to report', () => {
    expect(chooseStorage('auto', all)).toEqual({ kind: 'opfs-sahpool' })
  })

  it('falls back in order, saying what was missing', () => {
    const opfs = chooseStorage('auto', { ...all, syncHandles: false })
    expect(opfs.kind).toBe('opfs')
    expect(opfs.reason).toContain('createSyncAccessHandle')
    const idb = chooseStorage('auto', { ...all, opfs: false, syncHandles: false, writable: false })
    expect(idb.kind).toBe('idb')
    expect(idb.reason).toContain('navigator.storage.getDirectory')
    const memory = chooseStorage('auto', { opfs: false, syncHandles: false, writable: false, indexedDb: false })
    expect(memory.kind).toBe('memory')
    expect(memory.reason).toContain('IndexedDB')
  })

  it('skips OPFS that cannot be written without sync handles', () => {
    expect(chooseStorage('auto', { ...all, syncHandles: false, writable: false }).kind).toBe('idb')
  })

  it('takes a forced storage as is, and refuses one the browser lacks', () => {
    expect(chooseStorage('idb', all)).toEqual({ kind: 'idb' })
    expect(chooseStorage('memory', { opfs: false, syncHandles: false, writable: false, indexedDb: false })).toEqual({
      kind: 'memory',
    })
    expect(() => chooseStorage('opfs-sahpool', { ...all, syncHandles: false })).toThrow(StorageUnavailableError)
    expect(() => chooseStorage('idb', { ...all, indexedDb: false })).toThrow(/IndexedDB/)
  })

  it('passes over a storage refused when opened, saying why; only a refusal counts as one', () => {
    const refused = refuse(all, 'opfs-sahpool', 'OPFS synchronous access handles failed to open (NotSupportedError: no)')
    expect(chooseStorage('auto', refused)).toEqual({
      kind: 'opfs',
      reason: 'OPFS synchronous access handles failed to open (NotSupportedError: no)',
    })
    expect(chooseStorage('auto', refuse(refuse(refused, 'opfs', 'x'), 'idb', 'y')).kind).toBe('memory')
    expect(isRefusal(new DOMException('no', 'NotSupportedError'))).toBe(true)
    expect(isRefusal(new DOMException('no', 'SecurityError'))).toBe(true)
    // Safari's busy file (WebKitGTK's refused one is told apart in opfs-pool.ts, on a fresh file).
    expect(isRefusal(new DOMException('busy', 'InvalidStateError'))).toBe(false)
    // Busy files, a failed download: they may clear up, and another storage would be another database.
    expect(isRefusal(new DOMException('busy', 'NoModificationAllowedError'))).toBe(false)
    expect(isRefusal(new TypeError('Failed to fetch'))).toBe(false)
  })
})
