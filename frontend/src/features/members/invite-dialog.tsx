import { useState } from 'react'
import { INVITE_ROLES, type InviteCreated, type InviteRole, inviteLink, useCreateInvite } from '@/api/members'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { Field, Input, NativeSelect } from '@/components/ui/input'
import { formatDateTime } from '@/lib/format'
import { SecretOnce } from '@/features/api-keys/create-api-key-dialog'

export function InviteDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const create = useCreateInvite()
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<InviteRole>('member')
  const [created, setCreated] = useState<InviteCreated | null>(null)

  const close = (next: boolean) => {
    if (!next) {
      setCreated(null)
      setEmail('')
      setRole('member')
      create.reset()
    }
    onOpenChange(next)
  }

  return (
    <Dialog open={open} onOpenChange={close}>
      <DialogContent>
        {created ? (
          <>
            <DialogHeader>
              <DialogTitle>Invite for {created.email}</DialogTitle>
              <DialogDescription>
                Send this link to them. It makes them a {created.role} and works once, until{' '}
                {formatDateTime(created.expires_at)}.
              </DialogDescription>
            </DialogHeader>
            <SecretOnce secret={inviteLink(created.token)} label="Copy link" />
            <DialogFooter>
              <Button onClick={() => close(false)}>Done</Button>
            </DialogFooter>
          </>
        ) : (
          <form
            className="grid gap-4"
            onSubmit={(event) => {
              event.preventDefault()
              create.mutate({ email: email.trim(), role }, { onSuccess: setCreated })
            }}
          >
            <DialogHeader>
              <DialogTitle>Invite a member</DialogTitle>
              <DialogDescription>You get a one-time link to send; Kiln does not e-mail it.</DialogDescription>
            </DialogHeader>
            {create.error ? <ErrorAlert error={create.error} title="Could not create the invite" /> : null}
            <Field id="invite-email" label="E-mail" required>
              <Input id="invite-email" type="email" required autoFocus maxLength={254} value={email}
                onChange={(e) => setEmail(e.target.value)} />
            </Field>
            <Field id="invite-role" label="Role" hint="Owners are made by promoting a member later.">
              <NativeSelect id="invite-role" value={role} aria-describedby="invite-role-hint"
                onChange={(e) => setRole(e.target.value as InviteRole)}>
                {INVITE_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
              </NativeSelect>
            </Field>
            <DialogFooter>
              <Button variant="outline" onClick={() => close(false)}>Cancel</Button>
              <Button type="submit" disabled={create.isPending}>{create.isPending ? 'Creating…' : 'Create invite'}</Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  )
}
