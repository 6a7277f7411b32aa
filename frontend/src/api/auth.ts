/** The caller's session: who am I, sign up, log in, switch tenant, log out. */
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type Me = components['schemas']['Me']
export type SessionOut = components['schemas']['SessionOut']
export type SignupRequest = components['schemas']['SignupRequest']
export type LoginRequest = components['schemas']['LoginRequest']

export const meQuery = queryOptions({
  queryKey: keys.me,
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/me', { signal })),
  staleTime: 60_000,
  retry: false,
})

/** Permission names of `Me.permissions` (server: app/domain/auth/principal.py). */
export type Permission = 'read' | 'trigger' | 'worker' | 'operate' | 'manage' | 'members'

export function can(me: Me | undefined, permission: Permission): boolean {
  return me?.permissions?.includes(permission) ?? false
}

/**
 * A new session makes every cached answer stale: it belonged to the previous user or tenant.
 * Active queries (the shell's `me`, the page on screen) refetch at once; the rest are dropped.
 */
function useStartSession() {
  const queryClient = useQueryClient()
  return async () => {
    await queryClient.resetQueries()
  }
}

export function useSignup() {
  const start = useStartSession()
  return useMutation({
    mutationFn: (body: SignupRequest) => unwrap(api.POST('/api/v1/auth/signup', { body })),
    onSuccess: start,
  })
}

export function useLogin() {
  const start = useStartSession()
  return useMutation({
    mutationFn: (body: LoginRequest) => unwrap(api.POST('/api/v1/auth/login', { body })),
    onSuccess: start,
  })
}

export function useSwitchTenant() {
  const start = useStartSession()
  return useMutation({
    mutationFn: (tenantId: string) =>
      unwrap(api.POST('/api/v1/auth/switch', { body: { tenant_id: tenantId } })),
    onSuccess: start,
  })
}

export function useLogout() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/logout')),
    onSettled: () => queryClient.clear(),
  })
}
