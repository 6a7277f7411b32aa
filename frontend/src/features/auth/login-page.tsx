import { Link, useNavigate, useSearch } from '@tanstack/react-router'
import { useState } from 'react'
import { useLogin } from '@/api/auth'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Field, Input } from '@/components/ui/input'
import { AuthLayout, safeRedirect } from './auth-layout'

export function LoginPage() {
  const { redirect } = useSearch({ from: '/login' })
  const navigate = useNavigate()
  const login = useLogin()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')

  return (
    <AuthLayout
      title="Log in"
      subtitle="Welcome back to your workflows."
      footer={
        <>
          New to Kiln?{' '}
          <Link to="/signup" className="font-medium text-primary hover:underline">
            Create an account
          </Link>
        </>
      }
    >
      <form
        className="grid gap-4"
        onSubmit={(event) => {
          event.preventDefault()
          login.mutate(
            { email: email.trim(), password },
            { onSuccess: () => void navigate({ to: safeRedirect(redirect) }) },
          )
        }}
      >
        {login.error ? <ErrorAlert error={login.error} title="Could not log in" /> : null}
        <Field id="login-email" label="E-mail" required>
          <Input id="login-email" name="email" type="email" autoComplete="username" required autoFocus
            value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field id="login-password" label="Password" required>
          <Input id="login-password" name="password" type="password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <Button type="submit" disabled={login.isPending}>
          {login.isPending ? 'Logging in…' : 'Log in'}
        </Button>
      </form>
    </AuthLayout>
  )
}
