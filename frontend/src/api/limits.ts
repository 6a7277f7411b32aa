import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import { isLive } from '@/api/live'
import type { components } from '@/api/schema'
import type { JsonSchema } from '@/lib/json-schema'

export type RateLimit = components['schemas']['RateLimitOut']
export type RateLimitPut = components['schemas']['RateLimitPut']
export type RateWindow = RateLimitPut['window']
export type Strategy = Omit<components['schemas']['Strategy'], 'config_schema'> & { config_schema: JsonSchema }
export type ConcurrencyUsage = components['schemas']['ConcurrencyUsage']

// Usage changes with every claim, and claims reach the change stream as run changes (live.ts
// then refreshes these); windows also refill with time alone, which no event announces: a slow
// poll while live, a faster one when the stream is down.
const usageInterval = () => (isLive() ? 10_000 : 3_000)

export const rateLimitsQuery = queryOptions({
  queryKey: keys.limits.rate(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/rate-limits', { params: { query: { limit: 100 } }, signal })),
  refetchInterval: usageInterval,
})

export const strategiesQuery = queryOptions({
  queryKey: keys.limits.strategies(),
  queryFn: async ({ signal }) => {
    const list = await unwrap(api.GET('/api/v1/rate-limit-strategies', { signal }))
    return { ...list, items: list.items as Strategy[] }
  },
  staleTime: 60_000,
})

export const concurrencyUsageQuery = queryOptions({
  queryKey: keys.limits.concurrency(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/stats/concurrency', { params: { query: { limit: 100 } }, signal })),
  refetchInterval: usageInterval,
})

export function usePutRateLimit() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: ({ key, body }: { key: string; body: RateLimitPut }) =>
      unwrap(api.PUT('/api/v1/rate-limits/{key}', { params: { path: { key } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.limits.rate() }),
  })
}

export function useDeleteRateLimit() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (key: string) => unwrap(api.DELETE('/api/v1/rate-limits/{key}', { params: { path: { key } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.limits.rate() }),
  })
}

export function usePutDefaultStrategy() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (strategy: string) =>
      unwrap(api.PUT('/api/v1/rate-limit-settings', { body: { default_strategy: strategy } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.limits.all }),
  })
}
