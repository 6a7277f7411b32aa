import { AlertTriangleIcon } from 'lucide-react'
import { useState } from 'react'
import { API_KEY_SCOPES, type ApiKeyCreated, type ApiKeyScope, useCreateApiKey } from '@/api/api-keys'
import { CodeBlock } from '@/components/copy-button'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { Checkbox, Field, Input, Label, NativeSelect } from '@/components/ui/input'

const EXPIRY_OPTIONS = [
  { value: 'never', label: 'Never' },
  { value: '7', label: 'In 7 days' },
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: '365', label: 'In 1 year' },
  { value: 'custom', label: 'On a date…' },
] as const

type Expiry = (typeof EXPIRY_OPTIONS)[number]['value']

/** ISO timestamp for the chosen expiry, `null` for never; `undefined` when the date is missing. */
export function expiryToIso(expiry: Expiry, customDate: string, now: Date = new Date()): string | null | undefined {
  if (expiry === 'never') return null
  if (expiry === 'custom') {
    if (!customDate) return undefined
    // End of the chosen day, local time.
    const date = new Date(`${customDate}T23:59:59`)
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
  }
  return new Date(now.getTime() + Number(expiry) * 24 * 3600 * 1000).toISOString()
}

/** The secret, shown once, with a warning that it cannot be shown again. */
export function SecretOnce({ secret, label = 'Copy key' }: { secret: string; label?: string }) {
  return (
    <div className="grid gap-3">
      <div className="flex items-start gap-2 rounded-lg border border-warning/40 bg-warning/10 p-3 text-sm">
        <AlertTriangleIcon className="mt-0.5 size-4 shrink-0 text-warning" aria-hidden />
        <p>Copy it now: this is the only time it is shown. Kiln stores only a hash of it.</p>
      </div>
      <CodeBlock code={secret} label={label} />
    </div>
  )
}

export function CreateApiKeyDialog({
  open,
  onOpenChange,
  defaultScopes = ['worker'],
  onCreated,
}: {
  open: boolean
  onOpenChange: (open: boolean) => void
  defaultScopes?: ApiKeyScope[]
  onCreated?: (key: ApiKeyCreated) => void
}) {
  const create = useCreateApiKey()
  const [name, setName] = useState('')
  const [scopes, setScopes] = useState<ApiKeyScope[]>(defaultScopes)
  const [expiry, setExpiry] = useState<Expiry>('never')
  const [customDate, setCustomDate] = useState('')
  const [created, setCreated] = useState<ApiKeyCreated | null>(null)
  const [problem, setProblem] = useState<string | null>(null)

  const close = (next: boolean) => {
    if (!next) {
      // Forget the secret as soon as the dialog closes.
      setCreated(null)
      setName('')
      setScopes(defaultScopes)
      setExpiry('never')
      setCustomDate('')
      setProblem(null)
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
              <DialogTitle>API key “{created.name}” created</DialogTitle>
              <DialogDescription>Use it as a Bearer token or as KILN_API_KEY for the SDK.</DialogDescription>
            </DialogHeader>
            <SecretOnce secret={created.key} />
            <DialogFooter>
              <Button onClick={() => close(false)}>Done, I saved it</Button>
            </DialogFooter>
          </>
        ) : (
          <form
            className="grid gap-4"
            onSubmit={(event) => {
              event.preventDefault()
              const expires_at = expiryToIso(expiry, customDate)
              if (!name.trim()) return setProblem('Give the key a name.')
              if (scopes.length === 0) return setProblem('Pick at least one scope.')
              if (expires_at === undefined) return setProblem('Pick the expiry date.')
              setProblem(null)
              create.mutate(
                { name: name.trim(), scopes, expires_at },
                {
                  onSuccess: (key) => {
                    setCreated(key)
                    onCreated?.(key)
                  },
                },
              )
            }}
          >
            <DialogHeader>
              <DialogTitle>Create an API key</DialogTitle>
              <DialogDescription>Workers, scripts and CI authenticate with API keys.</DialogDescription>
            </DialogHeader>
            {create.error ? <ErrorAlert error={create.error} title="Could not create the key" /> : null}
            {problem ? <p className="text-sm text-destructive" role="alert">{problem}</p> : null}
            <Field id="api-key-name" label="Name" required hint="Where it is used, e.g. “prod workers”.">
              <Input id="api-key-name" value={name} maxLength={100} required autoFocus
                onChange={(e) => setName(e.target.value)} />
            </Field>
            <fieldset className="grid gap-2">
              <legend className="mb-1 text-sm font-medium">Scopes<span className="ml-0.5 text-destructive" aria-hidden>*</span></legend>
              {API_KEY_SCOPES.map(({ scope, description }) => (
                <div key={scope} className="flex items-start gap-2">
                  <Checkbox
                    id={`scope-${scope}`}
                    className="mt-0.5"
                    aria-describedby={`scope-${scope}-hint`}
                    checked={scopes.includes(scope)}
                    onChange={(e) =>
                      setScopes((current) =>
                        e.target.checked ? [...current, scope] : current.filter((s) => s !== scope),
                      )
                    }
                  />
                  <div className="grid gap-0.5">
                    <Label htmlFor={`scope-${scope}`}>{scope}</Label>
                    <p id={`scope-${scope}-hint`} className="text-xs text-muted-foreground">{description}</p>
                  </div>
                </div>
              ))}
            </fieldset>
            <div className="grid grid-cols-2 gap-3">
              <Field id="api-key-expiry" label="Expires">
                <NativeSelect id="api-key-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value as Expiry)}>
                  {EXPIRY_OPTIONS.map((option) => (
                    <option key={option.value} value={option.value}>{option.label}</option>
                  ))}
                </NativeSelect>
              </Field>
              {expiry === 'custom' ? (
                <Field id="api-key-expiry-date" label="Date" required>
                  <Input id="api-key-expiry-date" type="date" required value={customDate}
                    min={new Date().toISOString().slice(0, 10)} onChange={(e) => setCustomDate(e.target.value)} />
                </Field>
              ) : null}
            </div>
            <DialogFooter>
              <Button variant="outline" onClick={() => close(false)}>Cancel</Button>
              <Button type="submit" disabled={create.isPending}>
                {create.isPending ? 'Creating…' : 'Create key'}
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  )
}
