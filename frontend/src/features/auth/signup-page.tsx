import { Link, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import { useSignup } from '@/api/auth'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Field, Input } from '@/components/ui/input'
import { AuthLayout } from './auth-layout'

const MIN_PASSWORD = 10

export function SignupPage() {
  const navigate = useNavigate()
  const signup = useSignup()
  const [form, setForm] = useState({ name: '', email: '', password: '', tenant_name: '' })
  const [touched, setTouched] = useState(false)
  const passwordError =
    touched && form.password.length > 0 && form.password.length < MIN_PASSWORD
      ? `Use at least ${MIN_PASSWORD} characters.`
      : undefined
  const set = (key: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm((current) => ({ ...current, [key]: event.target.value }))

  return (
    <AuthLayout
      title="Create your account"
      subtitle="You get your own tenant: an isolated space for workflows, runs and keys."
      footer={
        <>
          Already have an account?{' '}
          <Link to="/login" search={{ redirect: undefined }} className="font-medium text-primary hover:underline">
            Log in
          </Link>
        </>
      }
    >
      <form
        className="grid gap-4"
        onSubmit={(event) => {
          event.preventDefault()
          setTouched(true)
          if (form.password.length < MIN_PASSWORD) return
          signup.mutate(
            {
              email: form.email.trim(),
              password: form.password,
              tenant_name: form.tenant_name.trim(),
              name: form.name.trim() || null,
            },
            { onSuccess: () => void navigate({ to: '/onboarding' }) },
          )
        }}
      >
        {signup.error ? <ErrorAlert error={signup.error} title="Could not sign up" /> : null}
        <Field id="signup-name" label="Your name">
          <Input id="signup-name" name="name" autoComplete="name" maxLength={100} autoFocus
            value={form.name} onChange={set('name')} />
        </Field>
        <Field id="signup-email" label="E-mail" required>
          <Input id="signup-email" name="email" type="email" autoComplete="email" required maxLength={254}
            value={form.email} onChange={set('email')} />
        </Field>
        <Field id="signup-password" label="Password" required error={passwordError}
          hint={`At least ${MIN_PASSWORD} characters.`}>
          <Input id="signup-password" name="password" type="password" autoComplete="new-password" required
            minLength={MIN_PASSWORD} maxLength={256} aria-invalid={passwordError ? true : undefined}
            aria-describedby={passwordError ? 'signup-password-error' : 'signup-password-hint'}
            value={form.password} onChange={set('password')} onBlur={() => setTouched(true)} />
        </Field>
        <Field id="signup-tenant" label="Organization" required hint="The name of your first tenant, e.g. your team or company.">
          <Input id="signup-tenant" name="tenant_name" autoComplete="organization" required maxLength={100}
            aria-describedby="signup-tenant-hint" value={form.tenant_name} onChange={set('tenant_name')} />
        </Field>
        <Button type="submit" disabled={signup.isPending}>
          {signup.isPending ? 'Creating account…' : 'Create account'}
        </Button>
      </form>
    </AuthLayout>
  )
}
