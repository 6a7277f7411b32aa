import { queryOptions } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type Worker = components['schemas']['Worker']

/** Connected workers; refreshed every 5 s for the heartbeat column (until SSE). */
export const workersQuery = queryOptions({
  queryKey: keys.workers.list(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/workers', { params: { query: { limit: 100 } }, signal })),
  refetchInterval: 5_000,
})
