import { describe, expect, it } from 'vitest'
import { formatRate, toChartRows } from './buckets'

describe('overview chart rows', () => {
  it('turns server buckets into stacked rows with zeros, and names the statuses present', () => {
    const { rows, statuses } = toChartRows([
      { at: '2026-01-01T00:00:00Z', counts: { succeeded: 3, failed: 1 } },
      { at: '2026-01-01T00:01:00Z', counts: {} },
      { at: '2026-01-01T00:02:00Z', counts: { queued: 2, weird: 9 } },
    ])
    expect(rows.map((r) => [r.start, r.succeeded, r.failed, r.queued])).toEqual([
      [Date.parse('2026-01-01T00:00:00Z'), 3, 1, 0],
      [Date.parse('2026-01-01T00:01:00Z'), 0, 0, 0],
      [Date.parse('2026-01-01T00:02:00Z'), 0, 0, 2],
    ])
    expect(statuses).toEqual(['queued', 'succeeded', 'failed'])
  })

  it('handles no buckets', () => {
    expect(toChartRows([])).toEqual({ rows: [], statuses: [] })
  })
})

describe('failure rate', () => {
  it('reads well at every size', () => {
    expect(formatRate(null)).toBe('—')
    expect(formatRate(0)).toBe('0%')
    expect(formatRate(0.25)).toBe('25%')
    expect(formatRate(0.0123)).toBe('1.2%')
    expect(formatRate(0.0004)).toBe('0.04%')
    expect(formatRate(1)).toBe('100%')
    expect(formatRate(0.996)).toBe('99.6%')
    expect(formatRate(0.99996)).toBe('99.9%')
  })
})
