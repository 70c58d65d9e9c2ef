/**
 * The OPFS side of pool-generations.ts: finding the live copy of a database's access-handle pool,
 * making a copy a frozen holder cannot reach, marking it, and clearing what is no longer live.
 *
 * A copy reads the live files with `getFile()`, which browsers allow while another context holds
 * sync access handles on them (Chromium and Firefox do; a second `createSyncAccessHandle` would
 * fail). Their holder is hung (frozen, or stuck), so they do not change while they are copied;
 * the copy checks it: each file quiet (not written for a while) when first read, and its size
 * and modification time the same once every file is written. Then each file held what it held at
 * the end of the last first read: a database file with its journal as a power cut would leave
 * them, which SQLite recovers when it opens the copy.
 */
import { HandoffError } from '../protocol/errors.js'
import { dataName, liveOf, markerName, nextNumber, prunable, ROOT, type Election, type Layout } from './pool-generations.js'

/** Copies of the live files before a taker gives up because they keep changing. */
const COPY_ROUNDS = 3
const COPY_RETRY_MS = 100
/**
 * How long before its first read a file must not have been written (at most; half the time its
 * holder was silent, see Taker.silentMs). A write after that read then has a later modification
 * time on any file system whose time stamps are finer than that (ext4, APFS, NTFS: far finer), so
 * the check after the copy sees it.
 */
const QUIET_MS = 1000
/** While something no longer live stays held (a frozen tab's files), the holder tries again this often, this many times. */
const PRUNE_RETRY_MS = 30_000
const PRUNE_TRIES = 20

/** A taker: the election it holds the role by, and whether it still does. */
export interface Taker {
  readonly election: Election
  /** False once its lock was stolen or its activation given up: it stops before its next step. */
  readonly current: () => boolean
  /**
   * About how long the hung holder has written nothing: it was declared hung after this long
   * without a heartbeat, and it heartbeats while it reads or writes.
   */
  readonly silentMs: number
}

export interface LivePool {
  /** The pool's directory, as AccessHandlePoolVFS takes it. */
  readonly path: string
  readonly target: string
  /** The taker's number, above everything in the directory when it looked. */
  readonly next: number
}

/** No copy was made (no room, the files kept changing, the browser refused to read them): the taker waits for the files instead. */
export class CopyNotMade extends Error {}

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
  const { target } = liveOf(layout)
  return { path: pathOf(base, target), target, next: nextNumber(layout) }
}

function stillTaking(taker: Taker): void {
  if (!taker.current()) throw new HandoffError('This takeover was superseded (the role lock was taken from it)')
}

/**
 * Makes the taker's marker for `target`, then checks that `target` is live: a later taker's
 * marker, made meanwhile, outranks it, and this taker is then stale.
 */
async function mark(base: string, n: number, target: string, taker: Taker): Promise<void> {
  stillTaking(taker)
  const root = await directoryAt(base)
  await root.getDirectoryHandle(markerName(n, target, taker.election), { create: true })
  if (liveOf((await entriesOf(root)).layout).target !== target) {
    throw new HandoffError('Another tab took the database over meanwhile')
  }
  stillTaking(taker)
}

/** Says the live files are `live.target`, for the taker, before it serves them. */
export function markLive(base: string, live: LivePool, taker: Taker): Promise<void> {
  return mark(base, live.next, live.target, taker)
}

/**
 * Copies the live files into a new directory, marks it live, and returns its path. A copy that
 * cannot be made throws CopyNotMade; a taker superseded meanwhile, HandoffError. A partial copy
 * is removed.
 */
export async function copyLivePool(base: string, live: LivePool, taker: Taker): Promise<string> {
  const name = dataName(live.next, crypto.randomUUID().replaceAll('-', ''))
  let root: FileSystemDirectoryHandle | undefined
  // Made: remove it if it fails. Marked: never (it may be live; pruning clears it if not).
  let state: 'none' | 'made' | 'marked' = 'none'
  try {
    root = await directoryAt(base)
    const from = await directoryAt(live.path)
    await checkRoom(from)
    stillTaking(taker)
    const to = await root.getDirectoryHandle(name, { create: true })
    state = 'made'
    await copySteady(from, to, taker)
    state = 'marked'
    await mark(base, live.next, name, taker)
    return `${base}/${name}`
  } catch (error) {
    if (state === 'made') await root?.removeEntry(name, { recursive: true }).catch(() => {})
    if (error instanceof HandoffError || error instanceof CopyNotMade) throw error
    throw new CopyNotMade(`${(error as Error)?.name}: ${(error as Error)?.message ?? error}`)
  }
}

async function checkRoom(from: FileSystemDirectoryHandle): Promise<void> {
  const estimate = await navigator.storage.estimate?.().catch(() => undefined)
  if (estimate?.quota === undefined || estimate.usage === undefined) return
  let size = 0
  for (const file of (await entriesOf(from)).files) size += (await file.getFile()).size
  if (estimate.quota - estimate.usage < size * 1.1) throw new CopyNotMade(`no room in storage for a copy (${size} bytes)`)
}

/** Copies every file of `from` into `to`, in rounds, until one is steady (see the header). */
async function copySteady(from: FileSystemDirectoryHandle, to: FileSystemDirectoryHandle, taker: Taker): Promise<void> {
  const quietMs = Math.min(QUIET_MS, taker.silentMs / 2)
  for (let round = 1; ; round++) {
    // A round starts empty: a file an earlier round copied may be gone from `from` since.
    for (const file of (await entriesOf(to)).files) await to.removeEntry(file.name)
    if (await copyRound(from, to, taker, quietMs)) return
    if (round >= COPY_ROUNDS)
      throw new CopyNotMade(`the files kept changing while copied (${round} rounds): their holder is not hung`)
    await sleep(COPY_RETRY_MS)
    stillTaking(taker)
  }
}

/** One round: whether every file was quiet when read and unchanged after all were written. */
async function copyRound(
  from: FileSystemDirectoryHandle,
  to: FileSystemDirectoryHandle,
  taker: Taker,
  quietMs: number,
): Promise<boolean> {
  const { files } = await entriesOf(from)
  const read = new Map<string, File>()
  try {
    for (const file of files) {
      const snapshot = await file.getFile()
      if (Date.now() - snapshot.lastModified < quietMs) return false
      await writeFile(to, file.name, snapshot)
      read.set(file.name, snapshot)
      stillTaking(taker)
    }
    const again = await entriesOf(from)
    if (again.files.length !== files.length) return false
    for (const file of again.files) {
      const before = read.get(file.name)
      const now = await file.getFile()
      if (!before || now.size !== before.size || now.lastModified !== before.lastModified) return false
    }
    return true
  } catch (error) {
    // Chromium fails the read of a file that changed after getFile().
    if ((error as Error)?.name === 'NotReadableError') return false
    throw error
  }
}

/** Writes `file` to `name` in `directory`, a chunk at a time, and flushes it. */
async function writeFile(directory: FileSystemDirectoryHandle, name: string, file: File): Promise<void> {
  const handle = await (await directory.getFileHandle(name, { create: true })).createSyncAccessHandle()
  const reader = file.stream().getReader()
  try {
    handle.truncate(0)
    let at = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (handle.write(value, { at }) !== value.byteLength) throw new CopyNotMade('no room in storage for a copy (short write)')
      at += value.byteLength
    }
    handle.flush()
  } finally {
    void reader.cancel().catch(() => {})
    handle.close()
  }
}

/**
 * Clears what is no longer live, for the worker that serves the live files: older copies and
 * markers, and, when a copy is live, the pool's own files. What is still held (a frozen tab's
 * files) stays; it tries again later, while `serving()`, a bounded number of times.
 */
export async function pruneGenerations(base: string, serving: () => boolean): Promise<void> {
  for (let tries = 1; serving(); tries++) {
    if ((await pruneOnce(base)) || tries >= PRUNE_TRIES) return
    await sleep(PRUNE_RETRY_MS)
  }
}

/** One pass: whether nothing was left. */
async function pruneOnce(base: string): Promise<boolean> {
  const root = await directoryAt(base)
  const { files, layout } = await entriesOf(root)
  const live = liveOf(layout)
  const names = prunable(layout, live)
  let left = 0
  for (const name of names) await root.removeEntry(name, { recursive: true }).catch(() => left++)
  if (live.target !== ROOT) for (const file of files) await root.removeEntry(file.name).catch(() => left++)
  return left === 0
}
