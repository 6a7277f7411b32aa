import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components, operations } from '@/api/schema'
import type { JsonSchema } from '@/lib/json-schema'

export type ChannelType = Omit<components['schemas']['ChannelType'], 'config_schema'> & { config_schema: JsonSchema }
export type Channel = components['schemas']['Channel']
export type ChannelCreate = components['schemas']['ChannelCreate']
export type ChannelCreated = components['schemas']['ChannelCreated']
export type ChannelUpdate = components['schemas']['ChannelUpdate']
export type Delivery = operations['listAlertDeliveries']['responses'][200]['content']['application/json']['items'][number]
export type DeliveryStatus = NonNullable<NonNullable<operations['listAlertDeliveries']['parameters']['query']>['status']>
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'cancelled']

/**
 * Events a channel may subscribe to (server: app/hooks/outbox_events.py CHANNEL_EVENTS). The
 * OpenAPI document types them as plain strings, so the list lives here too.
 */
export const CHANNEL_EVENTS: { event: string; label: string }[] = [
  { event: 'run.failed', label: 'Run failed' },
  { event: 'run.succeeded', label: 'Run succeeded' },
  { event: 'run.cancelled', label: 'Run cancelled' },
  { event: 'task.failed', label: 'Task failed (after its last retry)' },
  { event: 'task.retrying', label: 'Task failed and will retry' },
  { event: 'task.timed_out', label: 'Task timed out' },
  { event: 'task.cancelled', label: 'Task cancelled' },
  { event: 'worker.lost', label: 'Worker lost (missed heartbeats)' },
]

export const channelTypesQuery = queryOptions({
  queryKey: keys.alerts.channelTypes(),
  queryFn: async ({ signal }) => {
    const list = await unwrap(api.GET('/api/v1/alerts/channel-types', { signal }))
    return list.items as ChannelType[]
  },
  staleTime: 5 * 60_000,
})

export const channelsQuery = queryOptions({
  queryKey: keys.alerts.channels(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/alerts/channels', { params: { query: { limit: 100 } }, signal })),
})

export function deliveriesQuery(search: { channel?: string; status?: DeliveryStatus; cursor?: string }) {
  return queryOptions({
    queryKey: keys.alerts.deliveries(search),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/alerts/deliveries', {
          params: {
            query: {
              limit: 50,
              ...(search.channel ? { channel_id: search.channel } : {}),
              ...(search.status ? { status: search.status } : {}),
              ...(search.cursor ? { cursor: search.cursor } : {}),
            },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  })
}

function useInvalidateAlerts() {
  const queryClient = useQueryClient()
  return () => queryClient.invalidateQueries({ queryKey: keys.alerts.all })
}

export function useCreateChannel() {
  const invalidate = useInvalidateAlerts()
  return useMutation({
    mutationFn: (body: ChannelCreate) => unwrap(api.POST('/api/v1/alerts/channels', { body })),
    onSuccess: invalidate,
  })
}

export function useUpdateChannel() {
  const invalidate = useInvalidateAlerts()
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: ChannelUpdate }) =>
      unwrap(api.PATCH('/api/v1/alerts/channels/{channel_id}', { params: { path: { channel_id: id } }, body })),
    onSuccess: invalidate,
  })
}

export function useDeleteChannel() {
  const invalidate = useInvalidateAlerts()
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE('/api/v1/alerts/channels/{channel_id}', { params: { path: { channel_id: id } } })),
    onSuccess: invalidate,
  })
}

export function useTestChannel() {
  const invalidate = useInvalidateAlerts()
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST('/api/v1/alerts/channels/{channel_id}/test', { params: { path: { channel_id: id } } })),
    onSettled: invalidate,
  })
}
