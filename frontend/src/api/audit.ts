import { keepPreviousData, queryOptions } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type AuditEntry = components['schemas']['AuditEntry']

export const AUDIT_PAGE_SIZE = 50

export function auditQuery(action: string | undefined, cursor: string | undefined) {
  return queryOptions({
    queryKey: [...keys.audit.list(action), cursor ?? null],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/audit', {
          params: { query: { limit: AUDIT_PAGE_SIZE, ...(action ? { action } : {}), ...(cursor ? { cursor } : {}) } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
  })
}
