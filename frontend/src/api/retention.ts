/** How long the tenant's finished runs are kept (server: app/domain/retention). */
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type Retention = components['schemas']['Retention']
export type RetentionPut = components['schemas']['RetentionPut']

export const retentionQuery = queryOptions({
  queryKey: keys.retention,
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/retention', { signal })),
  staleTime: 60_000,
})

/** `PUT /api/v1/retention` (MANAGE): the answer is the stored value, written to the cache as is. */
export function usePutRetention() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (days: number) => unwrap(api.PUT('/api/v1/retention', { body: { run_retention_days: days } })),
    onSuccess: (retention) => queryClient.setQueryData(keys.retention, retention),
  })
}
