import { describe, expect, it } from 'vitest'
import { pingAfterMs, pingAnswerMs, silenceVerdict } from '../src/client/coordinator-silence.js'

const SILENCE = 4000
const heard = (over: Partial<Parameters<typeof silenceVerdict>[0]>) => ({
  now: 10_000,
  fromCoordinatorAt: 9_000,
  pingedAt: undefined,
  otherSince: undefined,
  ...over,
})

describe('silenceVerdict', () => {
  it('does nothing while the coordinator spoke within half the hang bound', () => {
    expect(silenceVerdict(heard({ fromCoordinatorAt: 10_000 - SILENCE / 2 }), SILENCE)).toEqual({ do: 'nothing' })
  })

  it('pings first once that has passed: a tab that was frozen itself sees old silence', () => {
    expect(silenceVerdict(heard({ fromCoordinatorAt: 10_000 - SILENCE / 2 - 1 }), SILENCE)).toEqual({ do: 'ping' })
  })

  it('allows at least three missed beats of the coordinator, however short the bound', () => {
    expect(pingAfterMs(1000)).toBe(1500)
  })

  it('waits for the answer to its ping, then takes over', () => {
    const silent = { fromCoordinatorAt: 0 }
    expect(silenceVerdict(heard({ ...silent, pingedAt: 10_000 - pingAnswerMs() + 1 }), SILENCE)).toEqual({ do: 'nothing' })
    expect(silenceVerdict(heard({ ...silent, pingedAt: 10_000 - pingAnswerMs() }), SILENCE)).toEqual({ do: 'take-over' })
  })

  it('moves to another coordinator that answered (one took over already), rather than take over', () => {
    expect(silenceVerdict(heard({ fromCoordinatorAt: 0, pingedAt: 0, otherSince: 'db:coordinator:2' }), SILENCE)).toEqual({
      do: 'move',
      to: 'db:coordinator:2',
    })
  })

  it('waits one beat of the coordinator for the answer, whatever the bound', () => {
    expect(pingAnswerMs()).toBe(500)
  })
})
