/** Group runs into time buckets by status, for the overview charts. Pure and unit-tested. */
import { RUN_STATUSES, type RunStatus } from '@/features/runs/filters'

export type Bucket = { start: number } & Record<RunStatus, number>

const STEPS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000]

/** A bucket width that yields at most `maxBuckets` buckets over the span. */
export function bucketWidth(span: number, maxBuckets = 30): number {
  return STEPS.find((step) => span / step <= maxBuckets) ?? STEPS[STEPS.length - 1]!
}

export function bucketRuns(runs: readonly { created_at: string; status: string }[], maxBuckets = 30): { width: number; buckets: Bucket[] } {
  const times = runs.map((r) => Date.parse(r.created_at)).filter((t) => !Number.isNaN(t))
  if (times.length === 0) return { width: STEPS[0]!, buckets: [] }
  const min = Math.min(...times)
  const max = Math.max(...times)
  const width = bucketWidth(max - min, maxBuckets)
  const first = Math.floor(min / width) * width
  const count = Math.floor((max - first) / width) + 1
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => {
    const bucket = { start: first + i * width } as Bucket
    for (const status of RUN_STATUSES) bucket[status] = 0
    return bucket
  })
  for (const run of runs) {
    const time = Date.parse(run.created_at)
    if (Number.isNaN(time) || !(RUN_STATUSES as readonly string[]).includes(run.status)) continue
    const bucket = buckets[Math.floor((time - first) / width)]
    if (bucket) bucket[run.status as RunStatus] += 1
  }
  return { width, buckets }
}

export function countByStatus(runs: readonly { status: string }[]): Record<RunStatus, number> {
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>
  for (const run of runs) if (run.status in counts) counts[run.status as RunStatus] += 1
  return counts
}
