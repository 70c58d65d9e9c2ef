// A tab worker's role (ActiveDatabase) on the fake browser APIs of fake-env.ts: the real wa-sqlite
// on the memory storage (its wasm read from node_modules as a data: URL), what it tells the
// coordinator kept in `sent`, and tabs whose lines record what the worker answers.
import { readFileSync } from 'node:fs'
import { expect, vi } from 'vitest'
import type { Line } from '../../src/protocol/line.js'
import { PROTOCOL_VERSION } from '../../src/protocol/message-fields.js'
import type { InitMessage } from '../../src/protocol/own-worker-messages.js'
import type { WorkerToCoordinator } from '../../src/protocol/worker-control-messages.js'
import { ActiveDatabase } from '../../src/worker/active-database.js'
import { fakeEnv, type FakeLocks } from './fake-env.js'

export const ROLE_LOCK = 'db:role'
export const HANG_MS = 600

const wasm = readFileSync(new URL('../../node_modules/wa-sqlite/dist/wa-sqlite.wasm', import.meta.url))
const wasmUrl = `data:application/wasm;base64,${wasm.toString('base64')}`

let databases = 0
/** Every worker made, so a test's can be closed after it: the module serves one database at a time. */
const made: ActiveDatabase[] = []

export async function closeAll(): Promise<void> {
  for (const db of made.splice(0)) await db.deactivate({ drain: false })
}

/** A tab's line to the worker: what the worker posts is kept; `exec` sends a statement. */
export interface FakeTab {
  readonly posted: Array<{ t: string; id?: number; [k: string]: unknown }>
  readonly closed: boolean
  exec(id: number, lease: number, sql: string): void
  /** The worker's answer to statement `id`, once it is posted. */
  answer(id: number): Promise<{ t: string; [k: string]: unknown }>
}

export function roleWorker() {
  const { clock, locks, env } = fakeEnv()
  const sent: WorkerToCoordinator[] = []
  const logged: string[] = []
  const init: InitMessage = {
    t: 'init',
    v: PROTOCOL_VERSION,
    tabId: 'tab-w',
    filename: `role-${++databases}.db`,
    directory: `kysely-multitab/role-${databases}.db`,
    wasmUrl,
    coordinatorPort: 'coordinator-line',
    roleLock: ROLE_LOCK,
    leaseTimeoutMs: 10_000,
    hangTimeoutMs: HANG_MS,
    storage: 'memory',
    openAttempts: 2,
    openRetryDelayMs: 5,
    debug: false,
    warmStandby: false,
    statementTimeoutMs: 0,
    connectionSetup: [],
  }
  const db = new ActiveDatabase(
    init,
    wasmUrl,
    '',
    (m) => sent.push(m),
    (event) => logged.push(event),
    env,
  )
  made.push(db)

  /** What was sent but heartbeats, as `t epoch`. */
  const reports = () => sent.filter((m) => m.t !== 'heartbeat').map((m) => `${m.t} ${m.epoch}`)
  return {
    db,
    clock,
    locks,
    env,
    sent,
    logged,
    reports,
    /** Heartbeats sent, as `epoch:seq`. */
    heartbeats: () => sent.flatMap((m) => (m.t === 'heartbeat' ? [`${m.epoch}:${m.seq}`] : [])),
    /** Waits until `report` (e.g. `activated 1`) has been sent. */
    reported: (report: string) => vi.waitFor(() => expect(reports()).toContain(report), 5000),
    /** Whether the role lock is held, and how many requests wait for it. */
    async roleLock(): Promise<{ held: boolean; pending: number }> {
      const { held = [], pending = [] } = await locks.query()
      return { held: held.some((l) => l.name === ROLE_LOCK), pending: pending.filter((l) => l.name === ROLE_LOCK).length }
    },
    /** A tab attached for `epoch`, its line verified. */
    tab(epoch: number, tabId: string): FakeTab {
      const posted: FakeTab['posted'] = []
      let closed = false
      const line: Line = {
        postMessage: (m) => posted.push(m as FakeTab['posted'][number]),
        onmessage: null,
        start() {},
        close: () => (closed = true),
      }
      const send = (data: unknown) => line.onmessage?.({ data } as MessageEvent)
      db.attach(epoch, tabId, line, `token-${tabId}`)
      send({ t: 'hello', token: `token-${tabId}` })
      return {
        posted,
        get closed() {
          return closed
        },
        exec: (id, lease, sql) => send({ t: 'exec', id, lease, sql, params: [] }),
        answer: (id) =>
          vi.waitFor(() => {
            const answer = posted.find((m) => m.id === id)
            if (!answer) throw new Error(`no answer to statement ${id}`)
            return answer
          }, 5000),
      }
    },
  }
}

/**
 * Holds the role lock as another worker would (taken from its holder with `steal`), until
 * `release`; `lost` is why it ended if it was stolen.
 */
export function otherHolder(locks: FakeLocks, options: { steal?: boolean } = {}) {
  let release = () => {}
  const holder = { lost: undefined as unknown, release: () => release() }
  locks
    .request(ROLE_LOCK, options, () => new Promise<void>((r) => (release = r)))
    .catch((error: unknown) => (holder.lost = error))
  return holder
}
