import { queryOptions } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import { isLive } from '@/api/live'
import type { components } from '@/api/schema'

export type Worker = components['schemas']['Worker']

/**
 * Workers of the tenant. The change stream (live.ts) refreshes them when a worker registers,
 * stops or is lost (`workers` events) and when runs change (slots in use); they are polled only
 * while the stream is down.
 */
export const workersQuery = queryOptions({
  queryKey: keys.workers.list(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/workers', { params: { query: { limit: 100 } }, signal })),
  refetchInterval: () => (isLive() ? false : 5_000),
})
