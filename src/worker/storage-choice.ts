/**
 * Which storage the database lives on, from what this worker's browser offers. Preferred first:
 *
 * 1. `opfs-sahpool`: OPFS synchronous access handles (wa-sqlite's sync build): the fast one.
 * 2. `opfs`: OPFS without sync handles, through `createWritable()` (the Asyncify build).
 * 3. `idb`: IndexedDB (wa-sqlite's IDBBatchAtomicVFS, the Asyncify build).
 * 4. `memory`: nothing persists; each active tab starts an empty database. Degraded, loudly.
 */
import { StorageUnavailableError } from '../protocol/errors.js'
import type { StorageKind, StoragePreference } from '../protocol/message-fields.js'

export interface StorageCapabilities {
  readonly opfs: boolean
  readonly syncHandles: boolean
  /** OPFS files can be written with `createWritable()`. */
  readonly writable: boolean
  readonly indexedDb: boolean
  /** Storages that are offered but refused to open here (the browser's backend does not do it), and why. */
  readonly refused?: Partial<Record<StorageKind, string>>
}

/**
 * The storage is offered but the browser refuses to use it (`NotSupportedError`, e.g. WebKitGTK's
 * OPFS backend for sync access handles; `SecurityError`, a storage policy): for good, unlike busy
 * files or a failed download. With `storage: 'auto'` the next storage is chosen.
 */
export class StorageRefusedError extends StorageUnavailableError {}

/** Whether an error from opening a storage says the browser will never do it here. */
export function isRefusal(error: unknown): boolean {
  const name = (error as { name?: string })?.name
  return name === 'NotSupportedError' || name === 'SecurityError'
}

/** `caps`, with `kind` refused for `why` (see StorageRefusedError). */
export function refuse(caps: StorageCapabilities, kind: StorageKind, why: string): StorageCapabilities {
  return { ...caps, refused: { ...caps.refused, [kind]: why } }
}

export interface StorageChoice {
  readonly kind: StorageKind
  /** Why a preferred storage was passed over (absent for the first choice or a forced one). */
  readonly reason?: string
}

export function detectCapabilities(): StorageCapabilities {
  const opfs = typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function'
  const syncHandles =
    opfs &&
    typeof FileSystemFileHandle !== 'undefined' &&
    typeof FileSystemFileHandle.prototype.createSyncAccessHandle === 'function'
  const writable =
    opfs && typeof FileSystemFileHandle !== 'undefined' && typeof FileSystemFileHandle.prototype.createWritable === 'function'
  const indexedDb = typeof indexedDB !== 'undefined' && indexedDB !== null
  return { opfs, syncHandles, writable, indexedDb }
}

/**
 * {@link detectCapabilities}, and OPFS actually opened: some modes (private browsing, storage
 * blocked by the user) have the API but reject it, and then it counts as missing.
 */
export async function probeCapabilities(): Promise<StorageCapabilities> {
  const caps = detectCapabilities()
  if (!caps.opfs) return caps
  try {
    await navigator.storage.getDirectory()
    return caps
  } catch {
    return { ...caps, opfs: false, syncHandles: false, writable: false }
  }
}

const MISSING: Record<Exclude<StorageKind, 'memory'>, string> = {
  'opfs-sahpool': 'OPFS synchronous access handles (createSyncAccessHandle) are not available',
  opfs: 'OPFS (navigator.storage.getDirectory with createWritable) is not available',
  idb: 'IndexedDB is not available',
}

function available(kind: StorageKind, caps: StorageCapabilities): boolean {
  if (caps.refused?.[kind]) return false
  switch (kind) {
    case 'opfs-sahpool':
      return caps.syncHandles
    case 'opfs':
      return caps.opfs && caps.writable
    case 'idb':
      return caps.indexedDb
    case 'memory':
      return true
  }
}

/** The storage to open; a forced one that is missing is a typed, permanent error. */
export function chooseStorage(preference: StoragePreference, caps: StorageCapabilities): StorageChoice {
  if (preference !== 'auto') {
    if (preference !== 'memory' && !available(preference, caps)) {
      throw new StorageUnavailableError(`storage '${preference}' was asked for, but ${MISSING[preference]} in this browser`)
    }
    return { kind: preference }
  }
  const passed: string[] = []
  for (const kind of ['opfs-sahpool', 'opfs', 'idb'] as const) {
    if (available(kind, caps)) return passed.length ? { kind, reason: passed.join('; ') } : { kind }
    passed.push(caps.refused?.[kind] ?? MISSING[kind])
  }
  return { kind: 'memory', reason: passed.join('; ') }
}
