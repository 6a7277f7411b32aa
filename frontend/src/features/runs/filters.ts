/**
 * Runs filters ↔ URL search params. The URL is the source of truth (shareable, back-button
 * friendly): `/runs?status=failed,cancelled&workflow=etl&range=24h&meta=customer:acme,region:eu`.
 * Every value in the URL is a plain string; `parseRunsSearch` normalises whatever a user typed
 * or pasted, dropping what it does not understand instead of failing the page.
 */

export const RUN_STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export const TIME_RANGES = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
  '30d': 30 * 24 * 3_600_000,
} as const
export type RelativeRange = keyof typeof TIME_RANGES
export type TimeRange = RelativeRange | 'custom'

/** The runs page's search params, as they appear in the URL (normalised). */
export interface RunsSearch {
  /** One status, or several separated by commas (any of them matches). */
  status?: string
  workflow?: string
  range?: TimeRange
  /** Custom range bounds (ISO-8601), only with `range=custom`. */
  from?: string
  to?: string
  /** Metadata equality filters: `key:value` pairs separated by commas (all must match). */
  meta?: string
  /** Opaque cursor of the page being shown (absent: the first page). */
  cursor?: string
}

/** The same filters in the shape code works with. */
export interface RunsFilters {
  /** Any of these statuses (empty: every status), in RUN_STATUSES order. */
  statuses: RunStatus[]
  workflow?: string
  range?: TimeRange
  from?: string
  to?: string
  metadata: Record<string, string>
  cursor?: string
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value)
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed ? trimmed : undefined
}

function isoDate(value: unknown): string | undefined {
  const raw = text(value)
  if (!raw) return undefined
  const date = new Date(raw)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** `"failed, QUEUED,bogus"` → `['queued', 'failed']`: known statuses, canonical order, no repeats. */
export function parseStatuses(value: unknown): RunStatus[] {
  const wanted = new Set((text(value) ?? '').split(',').map((part) => part.trim().toLowerCase()))
  return RUN_STATUSES.filter((status) => wanted.has(status))
}

/** Add or remove one status of a selection (the result keeps the canonical order). */
export function toggleStatus(statuses: readonly RunStatus[], status: RunStatus): RunStatus[] {
  const next = new Set(statuses)
  if (next.has(status)) next.delete(status)
  else next.add(status)
  return RUN_STATUSES.filter((s) => next.has(s))
}

export function parseMetadata(value: unknown): Record<string, string> {
  const raw = text(value)
  const out: Record<string, string> = {}
  if (!raw) return out
  for (const pair of raw.split(',')) {
    const colon = pair.indexOf(':')
    if (colon <= 0) continue
    const key = pair.slice(0, colon).trim()
    const val = pair.slice(colon + 1).trim()
    if (key) out[key] = val
  }
  return out
}

export function formatMetadata(metadata: Record<string, string>): string | undefined {
  const pairs = Object.entries(metadata)
    .filter(([key]) => key.trim())
    .map(([key, value]) => `${key.trim()}:${value.trim()}`)
  return pairs.length ? pairs.join(',') : undefined
}

/** URL search (anything) → normalised filters. */
export function searchToFilters(search: Record<string, unknown>): RunsFilters {
  const range = text(search.range)
  const filters: RunsFilters = { statuses: parseStatuses(search.status), metadata: parseMetadata(search.meta) }
  const workflow = text(search.workflow)
  if (workflow) filters.workflow = workflow
  if (range && (range === 'custom' || range in TIME_RANGES)) {
    filters.range = range as TimeRange
    if (range === 'custom') {
      const from = isoDate(search.from)
      const to = isoDate(search.to)
      if (from) filters.from = from
      if (to) filters.to = to
      if (!from && !to) delete filters.range
    }
  }
  const cursor = text(search.cursor)
  if (cursor) filters.cursor = cursor
  return filters
}

/** Normalised filters → URL search (only the keys that carry a value). */
export function filtersToSearch(filters: RunsFilters): RunsSearch {
  const search: RunsSearch = {}
  if (filters.statuses.length) search.status = filters.statuses.join(',')
  if (filters.workflow) search.workflow = filters.workflow
  if (filters.range) {
    search.range = filters.range
    if (filters.range === 'custom') {
      if (filters.from) search.from = filters.from
      if (filters.to) search.to = filters.to
    }
  }
  const meta = formatMetadata(filters.metadata)
  if (meta) search.meta = meta
  if (filters.cursor) search.cursor = filters.cursor
  return search
}

/** `validateSearch` of the runs route: any URL in, canonical search out. */
export function parseRunsSearch(search: Record<string, unknown>): RunsSearch {
  return filtersToSearch(searchToFilters(search))
}

/** The time window a filter selects, resolved against `now` (relative ranges slide). */
export function timeWindow(filters: RunsFilters, now: number = Date.now()): { after?: string; before?: string } {
  if (!filters.range) return {}
  if (filters.range === 'custom') return { after: filters.from, before: filters.to }
  return { after: new Date(now - TIME_RANGES[filters.range]).toISOString() }
}

/** True when any filter narrows the list (the cursor is position, not a filter). */
export function hasFilters(filters: RunsFilters): boolean {
  return (
    filters.statuses.length > 0 ||
    Boolean(filters.workflow) ||
    Boolean(filters.range) ||
    Object.keys(filters.metadata).length > 0
  )
}

/**
 * The query parameters of `GET /api/v1/runs/counts` for these filters: the list's filters except
 * status and position, so the status chips show what each status would list.
 */
export function filtersToCountsQuery(filters: RunsFilters, now: number = Date.now()) {
  const { after, before } = timeWindow(filters, now)
  const metadata = Object.entries(filters.metadata).map(([key, value]) => `${key}:${value}`)
  return {
    ...(filters.workflow ? { workflow: filters.workflow } : {}),
    ...(after ? { since: after } : {}),
    ...(before ? { until: before } : {}),
    ...(metadata.length ? { metadata } : {}),
  }
}

/** The query parameters of `GET /api/v1/runs` for these filters. */
export function filtersToApiQuery(filters: RunsFilters, limit: number, now: number = Date.now()) {
  return {
    limit,
    ...(filters.statuses.length ? { status: filters.statuses } : {}),
    ...filtersToCountsQuery(filters, now),
    ...(filters.cursor ? { cursor: filters.cursor } : {}),
  }
}

/** `validateSearch` of a run's page: `?tab=timeline&task=load`. */
export function parseRunSearch(search: Record<string, unknown>): { tab?: 'graph' | 'timeline' | 'data'; task?: string } {
  const tab = search.tab === 'graph' || search.tab === 'timeline' || search.tab === 'data' ? search.tab : undefined
  const task = typeof search.task === 'string' && search.task ? search.task : undefined
  return { tab, task }
}
