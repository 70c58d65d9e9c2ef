/**
 * Which copy of a database's access-handle pool is the live one (pure: pool-directory.ts reads and
 * writes the OPFS entries this decides about).
 *
 * A frozen tab's worker keeps its sync access handles, and no other context may open those files
 * while it does. A tab that takes the role over from such a worker copies the files into a new
 * directory and serves the copy: whatever the frozen worker does when it resumes lands in files no
 * one reads again. Which directory is live is said by markers, empty directories beside the pool's
 * files, named `m.<n>.<at>.<epoch>.<target>`:
 *
 * - `target` is the data directory: `root` (the pool's own directory, where every database starts)
 *   or `d-<n>-<id>` (a copy, a subdirectory of it, named with its marker's `n`).
 * - The live directory is the target of the greatest marker, by `n`, then `at` (when the election
 *   that made it was sent), then `epoch`. No marker: `root`.
 * - A marker is made only by a worker that took the role lock from a hung holder (a taker): after
 *   its copy is complete, or, when it could open the live files themselves, before it serves
 *   them. Its `n` is one more than any marker or copy it saw when it looked.
 *
 * Why every taker marks, not only a copier: a copier may freeze between its last look at its
 * lock and making its marker, and make it when it resumes, long after. The takers after it looked
 * later, so their `n` is at least its own, and their election is later, so their marker is
 * greater: its late one never wins. A taker checks after making its marker that its target is
 * live, and stops if not. Two assumptions: a copier that looked only after it resumed has heard
 * by then that its lock was stolen (the browser queued that news while it was frozen, before the
 * answers to what it asks after it resumes), and it checks its lock between its steps; and the
 * coordinator's clock does not step back between two elections by more than the time between
 * them (each coordinator's `at` only grows; see coordinator/elector.ts).
 */

/** The pool's own directory, as a marker's target. */
export const ROOT = 'root'

export interface Marker {
  readonly n: number
  readonly at: number
  readonly epoch: number
  readonly target: string
}

/** The election a taker holds the role by. */
export interface Election {
  readonly epoch: number
  /** When the coordinator sent it (wall clock, ms). */
  readonly at: number
}

const MARKER = /^m\.(\d{1,15})\.(\d{1,15})\.(\d{1,15})\.(root|d-\d{1,15}-[a-z0-9]{1,32})$/
const DATA = /^d-(\d{1,15})-[a-z0-9]{1,32}$/

export function parseMarker(name: string): Marker | undefined {
  const match = MARKER.exec(name)
  if (!match) return undefined
  return { n: Number(match[1]), at: Number(match[2]), epoch: Number(match[3]), target: match[4]! }
}

/** The `n` of a copy's directory (its marker's), or undefined if `name` is not one. */
export function dataNumber(name: string): number | undefined {
  const match = DATA.exec(name)
  return match ? Number(match[1]) : undefined
}

function compare(a: Marker, b: Marker): number {
  return a.n - b.n || a.at - b.at || a.epoch - b.epoch
}

/** The entries of a pool's directory that say where the live files are. */
export interface Layout {
  /** Names of its subdirectories. */
  readonly directories: readonly string[]
}

/** The live target, and the marker that says so (none: `root`, unmarked). */
export function liveOf(layout: Layout): { target: string; marker: Marker | undefined } {
  const present = new Set(layout.directories)
  const markers = layout.directories
    .map(parseMarker)
    .filter((m): m is Marker => m !== undefined)
    .sort(compare)
  // A copy is marked only once complete; a target gone missing (removed by hand) is passed over.
  for (let i = markers.length - 1; i >= 0; i--) {
    const marker = markers[i]!
    if (marker.target === ROOT || present.has(marker.target)) return { target: marker.target, marker }
  }
  return { target: ROOT, marker: undefined }
}

/** The `n` of a taker that saw `layout`: above every marker and copy in it. */
export function nextNumber(layout: Layout): number {
  return Math.max(0, ...layout.directories.map((d) => parseMarker(d)?.n ?? dataNumber(d) ?? 0)) + 1
}

/** The name of a copy's directory, for a taker of number `n`. */
export function dataName(n: number, id: string): string {
  return `d-${n}-${id}`
}

export function markerName(n: number, target: string, election: Election): string {
  return `m.${n}.${Math.max(0, Math.floor(election.at))}.${election.epoch}.${target}`
}

/**
 * What may go while `live` is live: the markers below it, and the copies numbered below it. A
 * copy numbered as it or above is its own, or a later taker's, perhaps still copying: it stays.
 * (Whether the pool's own files, the `root` generation, may go is the caller's: they are files.)
 */
export function prunable(layout: Layout, live: { target: string; marker: Marker | undefined }): string[] {
  const top = live.marker
  if (!top) return []
  return layout.directories.filter((name) => {
    const copy = dataNumber(name)
    if (copy !== undefined) return name !== live.target && copy < top.n
    const marker = parseMarker(name)
    return marker !== undefined && compare(marker, top) < 0
  })
}
