import { QueryClient } from '@tanstack/react-query'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { keys } from './keys'
import { isLive, startLiveUpdates } from './live'

/** A stand-in for the browser's EventSource: the test plays the server's events. */
class FakeEventSource {
  static CLOSED = 2
  static last: FakeEventSource | undefined
  readyState = 1
  onerror: (() => void) | null = null
  private listeners = new Map<string, ((event: { data: string }) => void)[]>()
  constructor(readonly url: string) {
    FakeEventSource.last = this
  }
  addEventListener(type: string, listener: (event: { data: string }) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }
  emit(type: string, data: unknown = {}) {
    for (const listener of this.listeners.get(type) ?? []) listener({ data: JSON.stringify(data) })
  }
  close() {
    this.readyState = FakeEventSource.CLOSED
  }
}

const stale = (client: QueryClient, key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated

function seeded(): QueryClient {
  const client = new QueryClient()
  for (const key of [keys.workers.list(), keys.runs.list({}), keys.runs.counts({}), keys.limits.rate(), keys.stats.overview('1h'), keys.runs.detail('r1')]) {
    client.setQueryData(key, {})
  }
  return client
}

describe('live updates', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.stubGlobal('EventSource', FakeEventSource)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('a workers event refreshes the workers at once, and nothing else', () => {
    const client = seeded()
    const stop = startLiveUpdates(client, '/stream')
    FakeEventSource.last!.emit('ready')
    expect(isLive()).toBe(true)
    FakeEventSource.last!.emit('workers', { workers: ['w1'] })
    expect(stale(client, keys.workers.list())).toBe(true)
    expect(stale(client, keys.runs.list({}))).toBe(false)
    stop()
    expect(isLive()).toBe(false)
  })

  it('a runs event refreshes that run at once, and coalesces the rest: lists at most every second, stats every 5 s', () => {
    const client = seeded()
    const stop = startLiveUpdates(client, '/stream')
    const source = FakeEventSource.last!
    source.emit('ready')
    source.emit('runs', { runs: ['r1'], logs: false })
    expect(stale(client, keys.runs.detail('r1'))).toBe(true)
    vi.advanceTimersByTime(0)
    const coalesced = [keys.runs.list({}), keys.runs.counts({}), keys.workers.list(), keys.limits.rate()]
    for (const key of [...coalesced, keys.stats.overview('1h')]) expect(stale(client, key), JSON.stringify(key)).toBe(true)

    // A burst right after: lists refresh once more a second later, stats only after 5 s.
    for (const key of [...coalesced, keys.stats.overview('1h')]) client.setQueryData(key, {})
    for (let i = 0; i < 10; i++) source.emit('runs', { runs: [`r${i}`], logs: false })
    vi.advanceTimersByTime(1000)
    for (const key of coalesced) expect(stale(client, key), JSON.stringify(key)).toBe(true)
    expect(stale(client, keys.stats.overview('1h'))).toBe(false)
    vi.advanceTimersByTime(4000)
    expect(stale(client, keys.stats.overview('1h'))).toBe(true)
    stop()
  })

  it('reset refreshes everything the stream keeps live', () => {
    const client = seeded()
    const stop = startLiveUpdates(client, '/stream')
    FakeEventSource.last!.emit('reset')
    for (const key of [keys.runs.detail('r1'), keys.workers.list(), keys.limits.rate(), keys.stats.overview('1h')]) {
      expect(stale(client, key), JSON.stringify(key)).toBe(true)
    }
    stop()
  })
})
