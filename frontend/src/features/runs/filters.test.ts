import { describe, expect, it } from 'vitest'
import {
  filtersToApiQuery,
  filtersToCountsQuery,
  filtersToSearch,
  hasFilters,
  parseRunSearch,
  parseRunsSearch,
  parseStatuses,
  searchToFilters,
  timeWindow,
  toggleStatus,
} from './filters'

const NOW = Date.parse('2026-03-01T12:00:00Z')

describe('runs filters ↔ URL search params', () => {
  it('round-trips every filter through the URL unchanged', () => {
    const search = {
      status: 'failed',
      workflow: 'etl',
      range: 'custom' as const,
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-02-02T00:00:00.000Z',
      meta: 'customer:acme,region:eu',
      cursor: 'AZ3x',
    }
    expect(parseRunsSearch(search)).toEqual(search)
    expect(filtersToSearch(searchToFilters(search))).toEqual(search)
  })

  it('normalises what people type or paste', () => {
    expect(
      parseRunsSearch({ status: ' FAILED ', workflow: '  etl ', meta: ' customer : acme , bogus, :x ', range: '24h', from: 'ignored' }),
    ).toEqual({ status: 'failed', workflow: 'etl', meta: 'customer:acme', range: '24h' })
  })

  it('drops values it does not understand instead of failing', () => {
    expect(parseRunsSearch({ status: 'exploded', range: '3y', workflow: '', cursor: 42, meta: 7 })).toEqual({ cursor: '42' })
    expect(parseRunsSearch({ range: 'custom', from: 'not a date' })).toEqual({})
    expect(parseRunsSearch({ status: ['failed'] })).toEqual({})
  })

  it('keeps several statuses as one comma list in canonical order', () => {
    expect(parseRunsSearch({ status: 'failed,queued' })).toEqual({ status: 'queued,failed' })
    expect(parseRunsSearch({ status: ' Failed , bogus,,failed ' })).toEqual({ status: 'failed' })
    expect(parseStatuses('cancelled,running,pending')).toEqual(['pending', 'running', 'cancelled'])
    expect(parseStatuses(undefined)).toEqual([])
  })

  it('toggles one status of a selection', () => {
    expect(toggleStatus([], 'failed')).toEqual(['failed'])
    expect(toggleStatus(['failed'], 'queued')).toEqual(['queued', 'failed'])
    expect(toggleStatus(['queued', 'failed'], 'failed')).toEqual(['queued'])
    expect(filtersToSearch({ ...searchToFilters({}), statuses: toggleStatus(['failed'], 'failed') })).toEqual({})
  })

  it('keeps metadata values with colons', () => {
    expect(searchToFilters({ meta: 'url:https://x.io' }).metadata).toEqual({ url: 'https://x.io' })
  })

  it('knows when anything narrows the list', () => {
    expect(hasFilters(searchToFilters({}))).toBe(false)
    expect(hasFilters(searchToFilters({ cursor: 'abc' }))).toBe(false)
    expect(hasFilters(searchToFilters({ meta: 'a:b' }))).toBe(true)
    expect(hasFilters(searchToFilters({ range: '1h' }))).toBe(true)
  })
})

describe('runs filters → API query', () => {
  it('resolves relative ranges against now', () => {
    expect(timeWindow(searchToFilters({ range: '1h' }), NOW)).toEqual({ after: '2026-03-01T11:00:00.000Z' })
    expect(timeWindow(searchToFilters({}), NOW)).toEqual({})
  })

  it('maps to the listRuns parameters', () => {
    const filters = searchToFilters({ status: 'running', workflow: 'etl', range: '7d', meta: 'a:1,b:2', cursor: 'c1' })
    expect(filtersToApiQuery(filters, 50, NOW)).toEqual({
      limit: 50,
      status: ['running'],
      workflow: 'etl',
      since: '2026-02-22T12:00:00.000Z',
      metadata: ['a:1', 'b:2'],
      cursor: 'c1',
    })
    expect(filtersToApiQuery(searchToFilters({}), 10, NOW)).toEqual({ limit: 10 })
    expect(filtersToApiQuery(searchToFilters({ status: 'failed,cancelled' }), 10, NOW)).toEqual({
      limit: 10,
      status: ['failed', 'cancelled'],
    })
    expect(
      filtersToApiQuery(searchToFilters({ range: 'custom', to: '2026-01-01T00:00:00Z' }), 10, NOW),
    ).toEqual({ limit: 10, until: '2026-01-01T00:00:00.000Z' })
  })
})

describe('runs filters → counts query', () => {
  it('keeps every filter but status and position', () => {
    const filters = searchToFilters({ status: 'failed', workflow: 'etl', range: '1h', meta: 'a:1', cursor: 'c1' })
    expect(filtersToCountsQuery(filters, NOW)).toEqual({
      workflow: 'etl',
      since: '2026-03-01T11:00:00.000Z',
      metadata: ['a:1'],
    })
  })
})

describe('run page search', () => {
  it('accepts known tabs and a task name', () => {
    expect(parseRunSearch({ tab: 'timeline', task: 'load' })).toEqual({ tab: 'timeline', task: 'load' })
    expect(parseRunSearch({ tab: 'nope', task: '' })).toEqual({ tab: undefined, task: undefined })
  })
})
