import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { parseCoordinatorToTab, parseTabToCoordinator } from '../src/protocol/coordinator-messages.js'
import { parseCoordinatorToWorker, parseWorkerToCoordinator } from '../src/protocol/worker-control-messages.js'
import { parseClientRequest } from '../src/protocol/statement-messages.js'

const parsers = [
  parseClientRequest,
  parseCoordinatorToTab,
  parseCoordinatorToWorker,
  parseTabToCoordinator,
  parseWorkerToCoordinator,
]

/** Values shaped like our messages, with every field possibly wrong. */
const messageLike = fc.record(
  {
    t: fc.oneof(
      fc.constantFrom(
        'join',
        'leave',
        'rejoin',
        'handoff',
        'visibility',
        'route',
        'route-lost',
        'rejected',
        'fence',
        'welcome',
        'roster',
      ),
      fc.constantFrom('activate', 'attach', 'tab-gone', 'deactivate', 'ack', 'activated', 'activate-failed', 'heartbeat'),
      fc.constantFrom('deactivated', 'exec', 'describe', 'admin', 'release', 'subscribe'),
      fc.string(),
    ),
    v: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.integer(), fc.string()),
    id: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string()),
    lease: fc.oneof(fc.nat(), fc.integer(), fc.string()),
    leases: fc.oneof(fc.array(fc.nat()), fc.array(fc.anything()), fc.string()),
    releases: fc.oneof(fc.array(fc.nat()), fc.anything()),
    sql: fc.oneof(fc.string(), fc.anything()),
    params: fc.oneof(fc.array(fc.anything()), fc.anything()),
    op: fc.oneof(fc.string(), fc.anything()),
    epoch: fc.oneof(fc.nat(), fc.integer(), fc.anything()),
    seq: fc.oneof(fc.nat(), fc.anything()),
    tabId: fc.oneof(fc.string(), fc.anything()),
    tabIds: fc.oneof(fc.array(fc.string()), fc.anything()),
    on: fc.anything(),
    action: fc.oneof(fc.constantFrom('claim', 'release'), fc.anything()),
    error: fc.anything(),
    reason: fc.oneof(fc.string(), fc.anything()),
    operation: fc.oneof(fc.constantFrom('export', 'import', 'empty', 'check', 'stats'), fc.anything()),
    file: fc.oneof(fc.uint8Array(), fc.anything()),
  },
  { requiredKeys: [] },
)

describe('message decoding (property-based)', () => {
  it('never throws on any input, and accepts only well-formed messages', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), messageLike), (data) => {
        for (const parse of parsers) {
          const message = parse(data) as Record<string, unknown> | undefined
          if (message === undefined) continue
          // Whatever is accepted has a known type and the fields its handler reads.
          expect(typeof message.t).toBe('string')
          if (message.t === 'exec') {
            expect(Number.isSafeInteger(message.id) && (message.id as number) >= 0).toBe(true)
            expect(Number.isSafeInteger(message.lease) && (message.lease as number) >= 0).toBe(true)
            expect(typeof message.sql).toBe('string')
            expect(Array.isArray(message.params)).toBe(true)
          }
          if (message.t === 'describe' || message.t === 'admin') {
            expect(Number.isSafeInteger(message.id) && (message.id as number) >= 0).toBe(true)
            expect(Number.isSafeInteger(message.lease) && (message.lease as number) >= 0).toBe(true)
          }
          if (message.t === 'describe') expect(typeof message.sql).toBe('string')
          // An import always brings its file, and nothing else brings one.
          if (message.t === 'admin') expect(message.file instanceof Uint8Array).toBe(message.operation === 'import')
          if (message.t === 'release') expect((message.leases as unknown[]).every(Number.isSafeInteger)).toBe(true)
          // Control messages are versioned (hot-path ones travel on a port only a joined tab holds).
          if (parse !== parseClientRequest && message.t !== 'rejected') expect(message.v).toBe(PROTOCOL_VERSION)
        }
      }),
      { numRuns: 3000 },
    )
  })

  const join0 = () => ({
    t: 'join',
    v: PROTOCOL_VERSION,
    tabId: 'a',
    secret: 's',
    tabLock: 'l',
    workerPort: 'line-name-1',
    epoch: 3,
    holder: false,
    hangTimeoutMs: 4000,
    visible: true,
    hiddenHandoffMs: 2000,
  })

  it('accepts the messages the runtimes really send', () => {
    expect(parseClientRequest({ t: 'exec', id: 1, lease: 2, sql: 'select 1', params: [] })).toBeDefined()
    expect(
      parseClientRequest({ t: 'exec', id: 1, lease: 2, sql: 'x', params: [], op: 'a:1', retry: true, releases: [1] }),
    ).toBeDefined()
    const exec = { t: 'exec', id: 1, lease: 2, sql: 'select 1', params: [] }
    expect(parseClientRequest({ ...exec, timeoutMs: 500 })).toBeDefined()
    for (const timeoutMs of [0, -1, 1.5, 2 ** 31, '500']) expect(parseClientRequest({ ...exec, timeoutMs })).toBeUndefined()
    expect(parseClientRequest({ t: 'describe', id: 1, lease: 2, sql: 'select 1' })).toBeDefined()
    expect(parseClientRequest({ t: 'admin', id: 1, lease: 2, operation: 'stats' })).toBeDefined()
    expect(parseClientRequest({ t: 'admin', id: 1, lease: 2, operation: 'import', file: new Uint8Array(4) })).toBeDefined()
    expect(parseClientRequest({ t: 'admin', id: 1, lease: 2, operation: 'import' })).toBeUndefined()
    expect(parseClientRequest({ t: 'admin', id: 1, lease: 2, operation: 'import', file: [1, 2] })).toBeUndefined()
    expect(parseClientRequest({ t: 'admin', id: 1, lease: 2, operation: 'export', file: new Uint8Array(4) })).toBeUndefined()
    expect(parseClientRequest({ t: 'admin', id: 1, lease: 2, operation: 'drop' })).toBeUndefined()
    expect(parseTabToCoordinator({ ...join0(), hiddenHandoffMs: 0 })).toBeDefined()
    expect(parseClientRequest({ t: 'release', leases: [1, 2] })).toBeDefined()
    expect(parseCoordinatorToWorker({ t: 'activate', v: PROTOCOL_VERSION, epoch: 5, steal: false, at: 1 })).toBeDefined()
    expect(parseCoordinatorToWorker({ t: 'activate', v: PROTOCOL_VERSION, epoch: 5, steal: false })).toBeUndefined()
    expect(parseWorkerToCoordinator({ t: 'heartbeat', v: PROTOCOL_VERSION, epoch: 5, seq: 0 })).toBeDefined()
    expect(parseCoordinatorToTab({ t: 'roster', v: PROTOCOL_VERSION, tabIds: ['a'], activeTabId: 'a' })).toBeDefined()
    const join = join0()
    expect(parseTabToCoordinator(join)).toBeDefined()
    expect(parseTabToCoordinator({ ...join, hiddenHandoffMs: undefined })).toBeDefined()
    expect(parseTabToCoordinator({ ...join, serial: 2 })).toBeDefined()
    expect(parseTabToCoordinator({ ...join, serial: -1 })).toBeUndefined()
    expect(parseTabToCoordinator({ ...join, hiddenHandoffMs: -5 })).toBeUndefined()
    expect(parseTabToCoordinator({ ...join, hiddenHandoffMs: 2 ** 31 })).toBeUndefined()
    expect(parseTabToCoordinator({ t: 'visibility', v: PROTOCOL_VERSION, tabId: 'a', visible: false })).toBeDefined()
    expect(parseTabToCoordinator({ t: 'visibility', v: PROTOCOL_VERSION, tabId: 'a', visible: 'no' })).toBeUndefined()
    // A route's reason reaches the app's events: only the reasons it is told of pass.
    const lost = { t: 'route-lost', v: PROTOCOL_VERSION, epoch: 2 }
    expect(parseCoordinatorToTab({ ...lost, reason: 'hung' })).toBeDefined()
    expect(parseCoordinatorToTab({ ...lost, reason: '<img src=x onerror=alert(1)>' })).toBeUndefined()
    const route = {
      t: 'route',
      v: PROTOCOL_VERSION,
      epoch: 2,
      activeTabId: 'a',
      port: 'line-name-2',
      token: 't',
      storage: 'opfs',
    }
    expect(parseCoordinatorToTab({ ...route, reason: 'elected' })).toBeDefined()
    expect(parseCoordinatorToTab({ ...route, reason: 'something else' })).toBeUndefined()
    // A join whose epoch would push a restarted coordinator's count past safe integers is refused.
    expect(parseTabToCoordinator({ ...join, epoch: 2 ** 53 - 2 })).toBeUndefined()
    // Another release's message is not acted on (the coordinator answers it with a ProtocolError).
    expect(parseWorkerToCoordinator({ t: 'heartbeat', v: PROTOCOL_VERSION + 1, epoch: 5, seq: 0 })).toBeUndefined()
  })
})
