/**
 * The OPFS side of pool-generations.ts: finding the live copy of a database's access-handle pool,
 * making a copy a frozen holder cannot reach, marking it, and clearing what is no longer live.
 *
 * A copy reads the live files with `getFile()`, which browsers allow while another context holds
 * sync access handles on them (Chromium and Firefox do; a second `createSyncAccessHandle` would
 * fail). The holder is hung (frozen, or stuck), so the files do not change while they are read;
 * the copy checks that they did not (their size and modification time), so it holds one instant's
 * state of every file: a database file with its journal as a power cut would leave them, which
 * SQLite recovers when it opens the copy.
 */
import { HandoffError } from '../protocol/errors.js'
import {
  dataName,
  liveOf,
  markerName,
  nextNumber,
  prunable,
  ROOT,
  type Election,
  type Layout,
  type Marker,
} from './pool-generations.js'

/** Copies of the live files before a taker gives up because they keep changing. */
const COPY_ROUNDS = 3
const COPY_RETRY_MS = 100

/** A taker: the election it holds the role by, and whether it still does. */
export interface Taker {
  readonly election: Election
  /** False once its lock was stolen or its activation given up: it stops before its next step. */
  readonly current: () => boolean
}

export interface LivePool {
  /** The pool's directory, as AccessHandlePoolVFS takes it. */
  readonly path: string
  readonly target: string
  readonly marker: Marker | undefined
  /** The taker's number, above everything in the directory when it looked. */
  readonly next: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function directoryAt(path: string): Promise<FileSystemDirectoryHandle> {
  let handle = await navigator.storage.getDirectory()
  for (const part of path.split('/')) if (part) handle = await handle.getDirectoryHandle(part, { create: true })
  return handle
}

async function entriesOf(directory: FileSystemDirectoryHandle): Promise<{ files: FileSystemFileHandle[]; layout: Layout }> {
  const files: FileSystemFileHandle[] = []
  const directories: string[] = []
  for await (const handle of (directory as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    if (handle.kind === 'file') files.push(handle as FileSystemFileHandle)
    else directories.push(handle.name)
  }
  return { files, layout: { directories } }
}

const pathOf = (base: string, target: string) => (target === ROOT ? base : `${base}/${target}`)

/** Where the database's live files are, under the pool directory `base`. */
export async function findLivePool(base: string): Promise<LivePool> {
  const { layout } = await entriesOf(await directoryAt(base))
  const live = liveOf(layout)
  return { path: pathOf(base, live.target), ...live, next: nextNumber(layout) }
}

function stillTaking(taker: Taker): void {
  if (!taker.current()) throw new HandoffError('This takeover was superseded (the role lock was taken from it)')
}

/** Says the live files are `live.target`, for the taker, before it serves them. */
export async function markLive(base: string, live: LivePool, taker: Taker): Promise<void> {
  stillTaking(taker)
  await (await directoryAt(base)).getDirectoryHandle(markerName(live.next, live.target, taker.election), { create: true })
}

/** The origin's storage has no room for a copy: the taker waits for the files instead. */
export class NoRoomToCopy extends HandoffError {}

/**
 * Copies the live files into a new directory, marks it live, and returns its path. Fails with a
 * retryable HandoffError if the files keep changing (their holder is not hung after all) or the
 * taker is superseded, with NoRoomToCopy if the storage quota cannot hold a copy; a partial copy
 * is removed.
 */
export async function copyLivePool(base: string, live: LivePool, taker: Taker): Promise<string> {
  const root = await directoryAt(base)
  const from = await directoryAt(live.path)
  await checkRoom(from)
  const name = dataName(live.next, Math.random().toString(36).slice(2, 12))
  const to = await root.getDirectoryHandle(name, { create: true })
  try {
    await copySteady(from, to, taker)
    stillTaking(taker)
    await root.getDirectoryHandle(markerName(live.next, name, taker.election), { create: true })
    return `${base}/${name}`
  } catch (error) {
    await root.removeEntry(name, { recursive: true }).catch(() => {})
    if (error instanceof HandoffError) throw error
    if ((error as Error)?.name === 'QuotaExceededError') throw new NoRoomToCopy('No room in storage to copy the database')
    throw new HandoffError(`Could not copy the database away from a frozen tab: ${(error as Error)?.message ?? error}`)
  }
}

async function checkRoom(from: FileSystemDirectoryHandle): Promise<void> {
  const estimate = await navigator.storage.estimate?.().catch(() => undefined)
  if (estimate?.quota === undefined || estimate.usage === undefined) return
  let size = 0
  for (const file of (await entriesOf(from)).files) size += (await file.getFile()).size
  if (estimate.quota - estimate.usage < size * 1.1) {
    throw new NoRoomToCopy(`No room in storage to copy the database (${size} bytes)`)
  }
}

/**
 * Copies every file of `from` into `to`, one at a time, until a round finds each unchanged from
 * before it was read to after the last was written: then each holds what it held at the end of
 * the last read, one instant's state of them all.
 */
async function copySteady(from: FileSystemDirectoryHandle, to: FileSystemDirectoryHandle, taker: Taker): Promise<void> {
  for (let round = 1; ; round++) {
    const { files } = await entriesOf(from)
    const read = new Map<string, File>()
    let steady = true
    try {
      for (const file of files) {
        const snapshot = await file.getFile()
        await writeFile(to, file.name, snapshot)
        read.set(file.name, snapshot)
        stillTaking(taker)
      }
      const again = await entriesOf(from)
      steady = again.files.length === files.length
      for (const file of again.files) {
        if (!steady) break
        const before = read.get(file.name)
        const now = await file.getFile()
        steady = before !== undefined && now.size === before.size && now.lastModified === before.lastModified
      }
    } catch (error) {
      // Chromium fails the read of a file that changed after getFile().
      if ((error as Error)?.name !== 'NotReadableError') throw error
      steady = false
    }
    if (steady) return
    if (round >= COPY_ROUNDS) {
      throw new HandoffError(`The database files kept changing while copied (${round} rounds): their holder is not hung`)
    }
    await sleep(COPY_RETRY_MS)
    stillTaking(taker)
  }
}

/** Writes `file` to `name` in `directory`, a chunk at a time, and flushes it. */
async function writeFile(directory: FileSystemDirectoryHandle, name: string, file: File): Promise<void> {
  const handle = await (await directory.getFileHandle(name, { create: true })).createSyncAccessHandle()
  try {
    handle.truncate(0)
    const reader = file.stream().getReader()
    let at = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (handle.write(value, { at }) !== value.byteLength) throw new DOMException('short write', 'QuotaExceededError')
      at += value.byteLength
    }
    handle.flush()
  } finally {
    handle.close()
  }
}

/**
 * Clears what is no longer live once `live` serves: older copies and markers, and, when a copy is
 * live, the pool's own files. Anything still held (a frozen tab's files) stays for a later turn.
 */
export async function pruneGenerations(base: string): Promise<void> {
  const root = await directoryAt(base)
  const { files, layout } = await entriesOf(root)
  const live = liveOf(layout)
  for (const name of prunable(layout, live)) await root.removeEntry(name, { recursive: true }).catch(() => {})
  if (live.target === ROOT) return
  for (const file of files) await root.removeEntry(file.name).catch(() => {})
}
