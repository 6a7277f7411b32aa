import { DELIVERY_STATUSES, type DeliveryStatus } from '@/api/alerts'

export interface AlertsSearch {
  tab?: 'channels' | 'deliveries'
  channel?: string
  status?: DeliveryStatus
  cursor?: string
}

/** `validateSearch` of /alerts: `?tab=deliveries&channel=<id>&status=failed`. */
export function parseAlertsSearch(search: Record<string, unknown>): AlertsSearch {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined)
  const tab = search.tab === 'deliveries' || search.tab === 'channels' ? search.tab : undefined
  const status = DELIVERY_STATUSES.find((s) => s === search.status)
  return { tab, channel: text(search.channel), status, cursor: text(search.cursor) }
}
