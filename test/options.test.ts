import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/dialect/options.js'
import { checkFilename } from '../src/protocol/names.js'
import { PROTOCOL_VERSION } from '../src/protocol/message-fields.js'
import { parseWorkerToCoordinator } from '../src/protocol/worker-control-messages.js'

describe('resolveConfig', () => {
  it('takes durations in fractions of a millisecond as whole milliseconds, which the protocol accepts', () => {
    const config = resolveConfig({
      filename: 'a.db',
      hangTimeoutMs: 2.2 * 1000,
      leaseTimeoutMs: 0.4,
      requestTimeoutMs: 1500.5,
      openRetryDelayMs: 24.6,
    })
    expect(config).toMatchObject({ hangTimeoutMs: 2200, leaseTimeoutMs: 1, requestTimeoutMs: 1501, openRetryDelayMs: 25 })
    // The worker reports the bound it serves under; a fraction here made the coordinator drop it.
    const activated = {
      t: 'activated',
      v: PROTOCOL_VERSION,
      epoch: 1,
      hangTimeoutMs: config.hangTimeoutMs,
      storage: 'opfs-sahpool',
    }
    expect(parseWorkerToCoordinator(activated)).toEqual(activated)
  })

  it('rejects durations that are not positive numbers', () => {
    expect(() => resolveConfig({ filename: 'a.db', hangTimeoutMs: 0 })).toThrow(RangeError)
    expect(() => checkFilename('../up.db')).toThrow(RangeError)
    expect(() => checkFilename(42)).toThrow(TypeError)
    // importDatabase() stages files under this name in the database's directory.
    expect(() => checkFilename('kysely-multitab-import.db')).toThrow(/reserved/)
    expect(checkFilename('kysely-multitab-import2.db')).toBe('kysely-multitab-import2.db')
    expect(() => resolveConfig({ filename: 'a.db', leaseTimeoutMs: Number.NaN })).toThrow(RangeError)
    expect(() => resolveConfig({ filename: 'a.db', requestTimeoutMs: -1 })).toThrow(RangeError)
    // setTimeout fires at once beyond 2^31 - 1 ms: an "infinite" timeout would time out at once.
    expect(() => resolveConfig({ filename: 'a.db', leaseTimeoutMs: 2 ** 31 })).toThrow(RangeError)
    expect(resolveConfig({ filename: 'a.db', leaseTimeoutMs: 2 ** 31 - 1 }).leaseTimeoutMs).toBe(2 ** 31 - 1)
  })

  it('hiddenHandoffMs: 2000 by default, 0 for at once, false for never, and nothing else', () => {
    expect(resolveConfig({ filename: 'a.db' }).hiddenHandoffMs).toBe(2000)
    expect(resolveConfig({ filename: 'a.db', hiddenHandoffMs: 0 }).hiddenHandoffMs).toBe(0)
    expect(resolveConfig({ filename: 'a.db', hiddenHandoffMs: false }).hiddenHandoffMs).toBe(false)
    expect(resolveConfig({ filename: 'a.db', hiddenHandoffMs: 250.4 }).hiddenHandoffMs).toBe(250)
    expect(() => resolveConfig({ filename: 'a.db', hiddenHandoffMs: -1 })).toThrow(RangeError)
    expect(() => resolveConfig({ filename: 'a.db', hiddenHandoffMs: true as never })).toThrow(RangeError)
  })
})
