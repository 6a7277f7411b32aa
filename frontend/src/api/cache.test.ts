import { QueryClient } from '@tanstack/react-query'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { applyChange, toSummary, upsertRun } from './cache'
import { keys } from './keys'
import { throttle } from './live'
import type { Run } from './runs'

const run = (id: string, status: string): Run => ({
  id, status, workflow: 'etl', version: 1, created_at: '2026-01-01T00:00:00Z', started_at: null, finished_at: null,
  metadata: {}, priority: 2, error: null, parent_run_id: null, input: { a: 1 }, output: null, tasks: [],
})

const stale = (client: QueryClient, key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated

describe('upsertRun', () => {
  it('updates the detail entry and the run inside cached list pages', () => {
    const client = new QueryClient()
    client.setQueryData(keys.runs.list({}), { items: [toSummary(run('r1', 'running')), toSummary(run('r2', 'queued'))], next_cursor: null })
    upsertRun(client, run('r1', 'cancelled'))
    expect(client.getQueryData<Run>(keys.runs.detail('r1'))?.status).toBe('cancelled')
    const page = client.getQueryData<{ items: { id: string; status: string }[] }>(keys.runs.list({}))
    expect(page?.items.map((r) => r.status)).toEqual(['cancelled', 'queued'])
    expect(stale(client, keys.runs.list({}))).toBe(false)
  })

  it('marks lists stale when the run is new to them', () => {
    const client = new QueryClient()
    client.setQueryData(keys.runs.list({}), { items: [], next_cursor: null })
    upsertRun(client, run('r9', 'queued'))
    expect(stale(client, keys.runs.list({}))).toBe(true)
  })
})

describe('applyChange', () => {
  it('invalidates the runs named by the stream, their logs, and asks for a list refresh', () => {
    const client = new QueryClient()
    for (const key of [keys.runs.detail('a'), keys.runs.detail('b'), keys.runs.logs('a', 'load'), keys.runs.list({})]) client.setQueryData(key, {})
    const refreshLists = vi.fn()
    applyChange(client, { runs: ['a'], logs: true }, refreshLists)
    expect(stale(client, keys.runs.detail('a'))).toBe(true)
    expect(stale(client, keys.runs.logs('a', 'load'))).toBe(true)
    expect(stale(client, keys.runs.detail('b'))).toBe(false)
    expect(stale(client, keys.runs.list({}))).toBe(false)
    expect(refreshLists).toHaveBeenCalledOnce()
  })

  it('refreshes everything about runs when the stream says "many"', () => {
    const client = new QueryClient()
    client.setQueryData(keys.runs.detail('a'), {})
    client.setQueryData(keys.runs.list({ status: 'failed' }), {})
    client.setQueryData(keys.apiKeys.list(), {})
    applyChange(client, { runs: null, logs: false }, vi.fn())
    expect(stale(client, keys.runs.detail('a'))).toBe(true)
    expect(stale(client, keys.runs.list({ status: 'failed' }))).toBe(true)
    expect(stale(client, keys.apiKeys.list())).toBe(false)
  })
})

describe('throttle', () => {
  afterEach(() => vi.useRealTimers())

  it('coalesces bursts into one trailing call per interval', () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    const throttled = throttle(fn, 1000)
    for (let i = 0; i < 50; i++) throttled()
    vi.advanceTimersByTime(0)
    expect(fn).toHaveBeenCalledTimes(1)
    throttled()
    throttled()
    vi.advanceTimersByTime(500)
    expect(fn).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(500)
    expect(fn).toHaveBeenCalledTimes(2)
  })
})
