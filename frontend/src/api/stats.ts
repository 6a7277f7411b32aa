import { keepPreviousData, queryOptions } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import { isLive } from '@/api/live'
import type { components } from '@/api/schema'

export type Overview = components['schemas']['Overview']
export type WorkflowStats = components['schemas']['WorkflowStats']
export type StatusBucket = components['schemas']['StatusBucket']

/** The windows `GET /api/v1/stats/overview` accepts, with how the page names them. */
export const WINDOWS = { '15m': 'Last 15 minutes', '1h': 'Last hour', '6h': 'Last 6 hours', '24h': 'Last 24 hours', '7d': 'Last 7 days' } as const
export type StatsWindow = keyof typeof WINDOWS

export function parseWindow(value: unknown): StatsWindow | undefined {
  return typeof value === 'string' && value in WINDOWS ? (value as StatsWindow) : undefined
}

/**
 * The overview's figures, computed by the server over a window. The change stream marks them
 * stale (coalesced, see live.ts); without it they are polled.
 */
export function overviewStatsQuery(window: StatsWindow) {
  return queryOptions({
    queryKey: keys.stats.overview(window),
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/stats/overview', { params: { query: { window } }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: () => (isLive() ? false : 15_000),
  })
}
