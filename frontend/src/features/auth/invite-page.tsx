import { useQuery } from '@tanstack/react-query'
import { Link, useNavigate, useSearch } from '@tanstack/react-router'
import { useState } from 'react'
import { meQuery } from '@/api/auth'
import { useAcceptInvite } from '@/api/members'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Field, Input } from '@/components/ui/input'
import { Skeleton } from '@/components/ui/skeleton'
import { AuthLayout } from './auth-layout'

const MIN_PASSWORD = 10

/** Where an invite link lands: join with the current account, or create one for the invite. */
export function InvitePage() {
  const { token } = useSearch({ from: '/invite' })
  const me = useQuery({ ...meQuery, retry: false, meta: { anonymousOk: true } })
  const accept = useAcceptInvite()
  const navigate = useNavigate()
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const done = () => void navigate({ to: '/overview' })

  if (!token) {
    return (
      <AuthLayout title="Invite link incomplete">
        <p className="text-sm text-muted-foreground">
          This link has no invite token. Copy the whole link from the invitation and open it again.
        </p>
      </AuthLayout>
    )
  }

  const here = `/invite?token=${encodeURIComponent(token)}`
  return (
    <AuthLayout title="Join a Kiln tenant" subtitle="Someone invited you to their tenant.">
      {accept.error ? <ErrorAlert className="mb-4" error={accept.error} title="Could not accept the invite" /> : null}
      {me.isPending ? (
        <Skeleton className="h-24" />
      ) : me.data?.user ? (
        <div className="grid gap-4">
          <p className="text-sm">
            You are logged in as <strong>{me.data.user.email}</strong>. The invite must be addressed to this e-mail.
          </p>
          <Button disabled={accept.isPending} onClick={() => accept.mutate({ token }, { onSuccess: done })}>
            {accept.isPending ? 'Joining…' : 'Accept invite'}
          </Button>
        </div>
      ) : (
        <form
          className="grid gap-4"
          onSubmit={(event) => {
            event.preventDefault()
            accept.mutate({ token, password, name: name.trim() || null }, { onSuccess: done })
          }}
        >
          <p className="text-sm text-muted-foreground">
            New to Kiln? Choose a password to create your account for the invited e-mail. Already have one?{' '}
            <Link to="/login" search={{ redirect: here }} className="font-medium text-primary hover:underline">
              Log in first
            </Link>
            .
          </p>
          <Field id="invite-name" label="Your name">
            <Input id="invite-name" autoComplete="name" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field id="invite-password" label="Password" required hint={`At least ${MIN_PASSWORD} characters.`}>
            <Input id="invite-password" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD}
              maxLength={256} aria-describedby="invite-password-hint" value={password}
              onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <Button type="submit" disabled={accept.isPending}>
            {accept.isPending ? 'Joining…' : 'Create account and join'}
          </Button>
        </form>
      )}
    </AuthLayout>
  )
}
