import { useQuery } from '@tanstack/react-query'
import { MailIcon, UserPlusIcon, UsersIcon } from 'lucide-react'
import { useState } from 'react'
import { can, meQuery } from '@/api/auth'
import {
  type Invite,
  invitesQuery,
  type Member,
  membersQuery,
  ROLES,
  type Role,
  useRemoveMember,
  useRevokeInvite,
  useUpdateMember,
} from '@/api/members'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { NativeSelect } from '@/components/ui/input'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { toast } from '@/components/ui/toast'
import { errorMessage } from '@/api/errors'
import { formatDateTime, formatRelative } from '@/lib/format'
import { InviteDialog } from './invite-dialog'

export function MembersPage() {
  const { data: me } = useQuery(meQuery)
  const manages = can(me, 'members')
  const members = useQuery(membersQuery)
  const [inviting, setInviting] = useState(false)
  const [removing, setRemoving] = useState<Member | null>(null)
  const update = useUpdateMember()
  const remove = useRemoveMember()

  return (
    <>
      <PageHeader
        title="Members"
        description="People with access to this tenant and what their role lets them do."
        actions={
          manages ? (
            <Button onClick={() => setInviting(true)}>
              <UserPlusIcon /> Invite member
            </Button>
          ) : null
        }
      />
      {!manages && me ? (
        <p className="mb-4 rounded-lg border bg-muted/40 p-3 text-sm text-muted-foreground">
          You are a <strong>{me.role}</strong> here: only owners and admins can invite people or change roles.
        </p>
      ) : null}
      {members.isPending ? (
        <TableSkeleton columns={4} />
      ) : members.isError ? (
        <ErrorAlert error={members.error} title="Could not load members" onRetry={() => void members.refetch()} />
      ) : members.data.items.length === 0 ? (
        <EmptyState icon={UsersIcon} title="No members">Invite someone to get started.</EmptyState>
      ) : (
        <Table aria-label="Members">
          <TableHeader>
            <TableRow>
              <TableHead>Member</TableHead>
              <TableHead>Role</TableHead>
              <TableHead>Joined</TableHead>
              <TableHead className="sr-only">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {members.data.items.map((member) => {
              const self = member.user_id === me?.user?.id
              return (
                <TableRow key={member.user_id}>
                  <TableCell>
                    <div className="grid">
                      <span className="font-medium">
                        {member.name || member.email}
                        {self ? <span className="ml-1 text-muted-foreground">(you)</span> : null}
                      </span>
                      {member.name ? <span className="text-xs text-muted-foreground">{member.email}</span> : null}
                    </div>
                  </TableCell>
                  <TableCell>
                    {manages ? (
                      <NativeSelect
                        aria-label={`Role of ${member.email}`}
                        className="h-8 w-32"
                        value={member.role}
                        disabled={update.isPending}
                        onChange={(e) => {
                          const role = e.target.value as Role
                          update.mutate(
                            { userId: member.user_id, role },
                            {
                              onSuccess: () => toast(`${member.email} is now ${role}`, { variant: 'success' }),
                              onError: (error) =>
                                toast('Could not change the role', { description: errorMessage(error), variant: 'error' }),
                            },
                          )
                        }}
                      >
                        {ROLES.map(({ role }) => <option key={role} value={role}>{role}</option>)}
                      </NativeSelect>
                    ) : (
                      <Badge variant="secondary">{member.role}</Badge>
                    )}
                  </TableCell>
                  <TableCell title={formatDateTime(member.joined_at)}>{formatRelative(member.joined_at)}</TableCell>
                  <TableCell className="text-right">
                    {manages ? (
                      <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setRemoving(member)}>
                        {self ? 'Leave' : 'Remove'}
                      </Button>
                    ) : null}
                  </TableCell>
                </TableRow>
              )
            })}
          </TableBody>
        </Table>
      )}
      <RoleLegend />
      {manages ? <Invites /> : null}
      <InviteDialog open={inviting} onOpenChange={setInviting} />
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => {
          if (!open) {
            setRemoving(null)
            remove.reset()
          }
        }}
        title={`Remove ${removing?.email ?? ''}?`}
        description="Their sessions in this tenant end at once. API keys they created keep working until revoked."
        confirmLabel="Remove member"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => {
          if (!removing) return
          remove.mutate(removing.user_id, {
            onSuccess: () => {
              toast(`Removed ${removing.email}`, { variant: 'success' })
              setRemoving(null)
            },
          })
        }}
      />
    </>
  )
}

function RoleLegend() {
  return (
    <dl className="mt-4 grid gap-x-6 gap-y-1 text-xs text-muted-foreground sm:grid-cols-2">
      {ROLES.map(({ role, description }) => (
        <div key={role} className="flex gap-2">
          <dt className="w-14 shrink-0 font-medium text-foreground">{role}</dt>
          <dd>{description}</dd>
        </div>
      ))}
    </dl>
  )
}

function inviteBadge(invite: Invite) {
  switch (invite.status) {
    case 'pending':
      return <Badge variant="info">pending</Badge>
    case 'accepted':
      return <Badge variant="success">accepted</Badge>
    default:
      return <Badge variant="muted">{invite.status}</Badge>
  }
}

function Invites() {
  const invites = useQuery(invitesQuery)
  const revoke = useRevokeInvite()
  return (
    <section className="mt-10" aria-labelledby="invites-heading">
      <h2 id="invites-heading" className="mb-3 text-lg font-semibold">Invites</h2>
      {invites.isPending ? (
        <TableSkeleton rows={2} columns={4} />
      ) : invites.isError ? (
        <ErrorAlert error={invites.error} title="Could not load invites" onRetry={() => void invites.refetch()} />
      ) : invites.data.items.length === 0 ? (
        <EmptyState icon={MailIcon} title="No invites">
          Invite a teammate: you get a one-time link to send them.
        </EmptyState>
      ) : (
        <Table aria-label="Invites">
          <TableHeader>
            <TableRow>
              <TableHead>E-mail</TableHead>
              <TableHead>Role</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Expires</TableHead>
              <TableHead className="sr-only">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {invites.data.items.map((invite) => (
              <TableRow key={invite.id}>
                <TableCell className="font-medium">{invite.email}</TableCell>
                <TableCell><Badge variant="secondary">{invite.role}</Badge></TableCell>
                <TableCell>{inviteBadge(invite)}</TableCell>
                <TableCell title={formatDateTime(invite.expires_at)}>{formatRelative(invite.expires_at)}</TableCell>
                <TableCell className="text-right">
                  {invite.status === 'pending' ? (
                    <Button
                      variant="ghost"
                      size="sm"
                      disabled={revoke.isPending}
                      onClick={() =>
                        revoke.mutate(invite.id, {
                          onSuccess: () => toast(`Revoked the invite for ${invite.email}`, { variant: 'success' }),
                          onError: (error) => toast('Could not revoke', { description: errorMessage(error), variant: 'error' }),
                        })
                      }
                    >
                      Revoke
                    </Button>
                  ) : null}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  )
}
