import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

export type Member = components['schemas']['Member']
export type Invite = components['schemas']['Invite']
export type InviteCreate = components['schemas']['InviteCreate']
export type InviteCreated = components['schemas']['InviteCreated']
export type Role = components['schemas']['MemberUpdate']['role']
export type InviteRole = NonNullable<InviteCreate['role']>

export const ROLES: { role: Role; description: string }[] = [
  { role: 'owner', description: 'Everything, including members and owners.' },
  { role: 'admin', description: 'Everything: keys, webhooks, alerts, limits, members.' },
  { role: 'member', description: 'Trigger, cancel and replay runs; run workers.' },
  { role: 'viewer', description: 'Read-only.' },
]
export const INVITE_ROLES: InviteRole[] = ['admin', 'member', 'viewer']

export const membersQuery = queryOptions({
  queryKey: keys.members.list(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/members', { params: { query: { limit: 100 } }, signal })),
})

export const invitesQuery = queryOptions({
  queryKey: keys.members.invites(),
  queryFn: ({ signal }) => unwrap(api.GET('/api/v1/members/invites', { params: { query: { limit: 100 } }, signal })),
})

export function useUpdateMember() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      unwrap(api.PATCH('/api/v1/members/{user_id}', { params: { path: { user_id: userId } }, body: { role } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.members.all }),
  })
}

export function useRemoveMember() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (userId: string) =>
      unwrap(api.DELETE('/api/v1/members/{user_id}', { params: { path: { user_id: userId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.members.all }),
  })
}

export function useCreateInvite() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (body: InviteCreate) => unwrap(api.POST('/api/v1/members/invites', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.members.invites() }),
  })
}

export function useRevokeInvite() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (inviteId: string) =>
      unwrap(api.DELETE('/api/v1/members/invites/{invite_id}', { params: { path: { invite_id: inviteId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.members.invites() }),
  })
}

export function useAcceptInvite() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (body: components['schemas']['InviteAccept']) =>
      unwrap(api.POST('/api/v1/members/invites/accept', { body })),
    // A new session in the invite's tenant: everything cached belonged to the old one.
    onSuccess: () => queryClient.resetQueries(),
  })
}

/** The link an invitee opens: this dashboard's accept page with the one-time token. */
export function inviteLink(token: string, origin: string = window.location.origin): string {
  return `${origin}/invite?token=${encodeURIComponent(token)}`
}
