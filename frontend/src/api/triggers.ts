/** Events, inbound webhooks, crons and one-off schedules: the ways runs start besides the API. */
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'
import type { JsonSchema } from '@/lib/json-schema'

export type KilnEvent = components['schemas']['Event']
export type EventCreate = components['schemas']['EventCreate']
export type Webhook = components['schemas']['Webhook']
export type WebhookCreate = components['schemas']['WebhookCreate']
export type WebhookCreated = components['schemas']['WebhookCreated']
export type Verifier = Omit<components['schemas']['Verifier'], 'config_schema'> & { config_schema: JsonSchema }
export type Cron = components['schemas']['Cron']
export type CronCreate = components['schemas']['CronCreate']
export type Schedule = components['schemas']['Schedule']
export type ScheduleCreate = components['schemas']['ScheduleCreate']

export interface EventsSearch {
  key?: string
  source?: 'api' | 'webhook'
  webhook?: string
  cursor?: string
}

export function eventsQuery(search: EventsSearch) {
  return queryOptions({
    queryKey: keys.events.list(search),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/events', {
          params: {
            query: {
              limit: 50,
              ...(search.key ? { key: search.key } : {}),
              ...(search.source ? { source: search.source } : {}),
              ...(search.webhook ? { webhook_id: search.webhook } : {}),
              ...(search.cursor ? { cursor: search.cursor } : {}),
            },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: search.cursor ? false : 10_000,
  })
}

export function usePushEvent() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (body: EventCreate) => unwrap(api.POST('/api/v1/events', { body })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.events.all })
      void queryClient.invalidateQueries({ queryKey: keys.runs.lists() })
    },
  })
}

export const webhooksQuery = queryOptions({
  queryKey: keys.webhooks.list(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/webhooks', { params: { query: { limit: 100 } }, signal })),
})

export const verifiersQuery = queryOptions({
  queryKey: keys.webhooks.verifiers(),
  queryFn: async ({ signal }) => {
    const list = await unwrap(api.GET('/api/v1/webhooks/verifiers', { signal }))
    return list.items as Verifier[]
  },
  staleTime: 5 * 60_000,
})

function useInvalidate(key: readonly unknown[]) {
  const queryClient = useQueryClient()
  return () => queryClient.invalidateQueries({ queryKey: key })
}

export function useCreateWebhook() {
  const invalidate = useInvalidate(keys.webhooks.all)
  return useMutation({
    mutationFn: (body: WebhookCreate) => unwrap(api.POST('/api/v1/webhooks', { body })),
    onSuccess: invalidate,
  })
}

export function useUpdateWebhook() {
  const invalidate = useInvalidate(keys.webhooks.all)
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      unwrap(api.PATCH('/api/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: id } }, body: { enabled } })),
    onSuccess: invalidate,
  })
}

export function useDeleteWebhook() {
  const invalidate = useInvalidate(keys.webhooks.all)
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: id } } })),
    onSuccess: invalidate,
  })
}

export function useRotateWebhookSecret() {
  const invalidate = useInvalidate(keys.webhooks.all)
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(
        api.POST('/api/v1/webhooks/{webhook_id}/rotate-secret', {
          params: { path: { webhook_id: id } },
          // The old secret keeps working for an hour while the sender is updated.
          body: { keep_previous_seconds: 3600 },
        }),
      ),
    onSuccess: invalidate,
  })
}

export const cronsQuery = queryOptions({
  queryKey: keys.schedules.crons(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/crons', { params: { query: { limit: 100 } }, signal })),
  refetchInterval: 30_000,
})

export const schedulesQuery = queryOptions({
  queryKey: keys.schedules.oneOff(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/schedules', { params: { query: { limit: 100 } }, signal })),
  refetchInterval: 30_000,
})

export function useCreateCron() {
  const invalidate = useInvalidate(keys.schedules.all)
  return useMutation({ mutationFn: (body: CronCreate) => unwrap(api.POST('/api/v1/crons', { body })), onSuccess: invalidate })
}

export function useUpdateCron() {
  const invalidate = useInvalidate(keys.schedules.all)
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      unwrap(api.PATCH('/api/v1/crons/{cron_id}', { params: { path: { cron_id: id } }, body: { enabled } })),
    onSuccess: invalidate,
  })
}

export function useDeleteCron() {
  const invalidate = useInvalidate(keys.schedules.all)
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/crons/{cron_id}', { params: { path: { cron_id: id } } })),
    onSuccess: invalidate,
  })
}

export function useCreateSchedule() {
  const invalidate = useInvalidate(keys.schedules.all)
  return useMutation({ mutationFn: (body: ScheduleCreate) => unwrap(api.POST('/api/v1/schedules', { body })), onSuccess: invalidate })
}

export function useDeleteSchedule() {
  const invalidate = useInvalidate(keys.schedules.all)
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/schedules/{schedule_id}', { params: { path: { schedule_id: id } } })),
    onSuccess: invalidate,
  })
}
