import type { EventsSearch } from '@/api/triggers'

/** `validateSearch` of /events: `?key=order:*&source=webhook&webhook=<id>`. */
export function parseEventsSearch(search: Record<string, unknown>): EventsSearch {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined)
  const source = search.source === 'api' || search.source === 'webhook' ? search.source : undefined
  return { key: text(search.key), source, webhook: text(search.webhook), cursor: text(search.cursor) }
}
