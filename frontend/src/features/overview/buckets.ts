/** The server's status buckets → rows Recharts stacks, with the statuses worth a bar. Pure and unit-tested. */
import type { StatusBucket } from '@/api/stats'
import { RUN_STATUSES, type RunStatus } from '@/features/runs/filters'

export type ChartRow = { start: number } & Record<RunStatus, number>

export function toChartRows(buckets: readonly StatusBucket[]): { rows: ChartRow[]; statuses: RunStatus[] } {
  const seen = new Set<RunStatus>()
  const rows = buckets.map((bucket) => {
    const row = { start: Date.parse(bucket.at) } as ChartRow
    for (const status of RUN_STATUSES) {
      const count = bucket.counts[status] ?? 0
      row[status] = count
      if (count) seen.add(status)
    }
    return row
  })
  return { rows, statuses: RUN_STATUSES.filter((s) => seen.has(s)) }
}

/** `0.25` → `"25%"`, `0.0004` → `"0.04%"`; no finished runs → an em dash. */
export function formatRate(rate: number | null | undefined): string {
  if (rate == null) return '—'
  const percent = rate * 100
  if (percent === 0 || percent === 100) return `${percent}%`
  if (percent >= 10 && percent < 99.5) return `${Math.round(percent)}%`
  // Just under 100 stays under it: 99.96% is "99.9%", not "100%".
  if (percent >= 99.5) return `${Math.min(99.9, Number(percent.toFixed(1)))}%`
  return `${Number(percent.toPrecision(2))}%`
}
