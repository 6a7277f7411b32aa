import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type ApiKey = components['schemas']['ApiKey']
export type ApiKeyCreate = components['schemas']['ApiKeyCreate']
export type ApiKeyCreated = components['schemas']['ApiKeyCreated']
export type ApiKeyScope = NonNullable<ApiKeyCreate['scopes']>[number]

export const API_KEY_SCOPES: { scope: ApiKeyScope; description: string }[] = [
  { scope: 'worker', description: 'Run a worker: register, poll, report results (also triggers and reads).' },
  { scope: 'trigger', description: 'Start runs and push events, and read back what it started.' },
  { scope: 'read', description: 'Read runs, workflows and workers.' },
  { scope: 'admin', description: 'Everything except managing members.' },
]

export const apiKeysQuery = queryOptions({
  queryKey: keys.apiKeys.list(),
  // A tenant has few keys: the maximum page is plenty; the UI says so if there are more.
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/api-keys', { params: { query: { limit: 100 } }, signal })),
})

export function useCreateApiKey() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (body: ApiKeyCreate) => unwrap(api.POST('/api/v1/api-keys', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.apiKeys.all }),
  })
}

export function useRevokeApiKey() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/api-keys/{key_id}', { params: { path: { key_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.apiKeys.all }),
  })
}
