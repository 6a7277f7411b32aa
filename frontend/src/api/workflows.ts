import { queryOptions } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type Workflow = components['schemas']['Workflow']
export type WorkflowDetail = components['schemas']['WorkflowDetail']

/** Workflow definitions (the newest version of each). Tenants have tens, not thousands. */
export const workflowsQuery = queryOptions({
  queryKey: keys.workflows.list(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/workflows', { params: { query: { limit: 100 } }, signal })),
  staleTime: 30_000,
})

export function workflowQuery(name: string) {
  return queryOptions({
    queryKey: keys.workflows.detail(name),
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/workflows/{name}', { params: { path: { name } }, signal })),
  })
}
