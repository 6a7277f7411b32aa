import { useState } from 'react'
import type { Strategy } from '@/api/limits'
import { ErrorAlert } from '@/components/error-alert'
import { JsonSchemaForm, validate } from '@/components/json-schema-form'
import { Button } from '@/components/ui/button'
import { Field, Input, NativeSelect } from '@/components/ui/input'
import { type DraftErrors, ownSettings, type RateLimitDraft, toPutBody, validateDraft, WINDOWS } from './rate-limit-draft'

/**
 * Set or edit a static rate limit: key, units per window, strategy and the strategy's own
 * settings (a form from its JSON Schema). Plain fields and a submit button: Enter submits, Tab
 * walks every control, errors are announced with their field.
 */
export function RateLimitForm({
  initial,
  editing,
  strategies,
  defaultStrategy,
  pending,
  error,
  onSubmit,
  onCancel,
}: {
  initial: RateLimitDraft
  /** Editing an existing key: the key is fixed. */
  editing: boolean
  strategies: readonly Strategy[]
  defaultStrategy: string
  pending?: boolean
  error?: unknown
  onSubmit: (key: string, body: ReturnType<typeof toPutBody>) => void
  onCancel: () => void
}) {
  const [draft, setDraft] = useState(initial)
  const [submitted, setSubmitted] = useState(false)
  const errors: DraftErrors = submitted ? validateDraft(draft) : {}
  const chosen = strategies.find((s) => s.name === (draft.strategy || defaultStrategy))
  const settings = ownSettings(chosen?.config_schema)
  const set = (patch: Partial<RateLimitDraft>) => setDraft((current) => ({ ...current, ...patch }))

  return (
    <form
      className="grid gap-4"
      noValidate
      aria-label={editing ? `Edit rate limit ${draft.key}` : 'Set a rate limit'}
      onSubmit={(event) => {
        event.preventDefault()
        setSubmitted(true)
        const configErrors = settings ? validate(settings, draft.config) : {}
        if (Object.keys(validateDraft(draft)).length || Object.keys(configErrors).length) return
        onSubmit(draft.key.trim(), toPutBody(draft))
      }}
    >
      {error ? <ErrorAlert error={error} title="Could not save the limit" /> : null}
      <Field id="limit-key" label="Key" required error={errors.key}
        hint="The name tasks use in rate_limits, e.g. crm-api.">
        <Input id="limit-key" value={draft.key} maxLength={255} disabled={editing} autoFocus={!editing}
          aria-invalid={Boolean(errors.key)} aria-describedby={errors.key ? 'limit-key-error' : 'limit-key-hint'}
          onChange={(e) => set({ key: e.target.value })} />
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field id="limit-units" label="Units" required error={errors.limit}>
          <Input id="limit-units" inputMode="numeric" value={draft.limit} autoFocus={editing}
            aria-invalid={Boolean(errors.limit)} aria-describedby={errors.limit ? 'limit-units-error' : undefined}
            onChange={(e) => set({ limit: e.target.value })} />
        </Field>
        <Field id="limit-window" label="Per">
          <NativeSelect id="limit-window" value={draft.window} onChange={(e) => set({ window: e.target.value as RateLimitDraft['window'] })}>
            {WINDOWS.map((w) => <option key={w} value={w}>{w}</option>)}
          </NativeSelect>
        </Field>
      </div>
      <Field id="limit-strategy" label="Strategy" hint={chosen?.title}>
        <NativeSelect id="limit-strategy" value={draft.strategy} aria-describedby="limit-strategy-hint"
          onChange={(e) => set({ strategy: e.target.value, config: {} })}>
          <option value="">Tenant default ({defaultStrategy})</option>
          {strategies.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
        </NativeSelect>
      </Field>
      {settings ? (
        <fieldset className="grid gap-3 rounded-lg border p-4">
          <legend className="px-1 text-sm font-semibold">{chosen?.name} settings</legend>
          <JsonSchemaForm key={chosen?.name} schema={settings} value={draft.config}
            onChange={(config) => set({ config: (config ?? {}) as Record<string, unknown> })} showErrors={submitted} />
        </fieldset>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button type="button" variant="outline" onClick={onCancel}>Cancel</Button>
        <Button type="submit" disabled={pending}>{pending ? 'Saving…' : 'Save limit'}</Button>
      </div>
    </form>
  )
}
