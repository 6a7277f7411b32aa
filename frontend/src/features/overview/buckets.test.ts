import { describe, expect, it } from 'vitest'
import { bucketRuns, bucketWidth, countByStatus } from './buckets'

const at = (minute: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + minute * 60_000).toISOString()

describe('overview buckets', () => {
  it('picks a bucket width that keeps the chart readable', () => {
    expect(bucketWidth(10 * 60_000)).toBe(60_000)
    expect(bucketWidth(3 * 3_600_000)).toBe(15 * 60_000)
    expect(bucketWidth(365 * 86_400_000)).toBe(86_400_000)
  })

  it('counts runs per bucket and status, with empty buckets in between', () => {
    const { width, buckets } = bucketRuns([
      { created_at: at(0), status: 'succeeded' },
      { created_at: at(0.5), status: 'failed' },
      { created_at: at(3), status: 'succeeded' },
      { created_at: at(3), status: 'weird' },
    ])
    expect(width).toBe(60_000)
    expect(buckets.map((b) => [b.succeeded, b.failed])).toEqual([[1, 1], [0, 0], [0, 0], [1, 0]])
  })

  it('handles no runs', () => {
    expect(bucketRuns([]).buckets).toEqual([])
    expect(countByStatus([{ status: 'failed' }, { status: 'failed' }, { status: '??' }]).failed).toBe(2)
  })
})
