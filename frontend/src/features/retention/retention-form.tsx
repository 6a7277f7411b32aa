import { useState } from 'react'
import { ApiError } from '@/api/errors'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Field, Input } from '@/components/ui/input'
import { daysHint, formatDays, MAX_DAYS, parseDays, validateDays } from './retention-draft'

/**
 * Set how long finished runs are kept. A plain form: Tab reaches the field and the button, Enter
 * submits; a refused value (ours or the server's 422) is announced with the field.
 */
export function RetentionForm({
  initial,
  pending,
  error,
  saved,
  onSubmit,
  onEdit,
}: {
  /** The days stored now: the field starts with them. */
  initial: number
  pending?: boolean
  /** The failed PUT: a 422's message shows under the field, anything else above the form. */
  error?: unknown
  /** The days the last PUT stored (null when nothing was saved since the last edit). */
  saved?: number | null
  onSubmit: (days: number) => void
  /** The field changed: the caller clears the last PUT's outcome. */
  onEdit?: () => void
}) {
  const [draft, setDraft] = useState(String(initial))
  const [submitted, setSubmitted] = useState(false)
  const refused = error instanceof ApiError && error.status === 422 ? error.message : undefined
  const fieldError = (submitted ? validateDays(draft) : undefined) ?? refused
  const typed = validateDays(draft) ? undefined : parseDays(draft)
  const hint = typed === undefined ? undefined : daysHint(typed)

  return (
    <form
      className="grid max-w-md gap-4"
      noValidate
      aria-label="Data retention"
      onSubmit={(event) => {
        event.preventDefault()
        setSubmitted(true)
        if (validateDays(draft)) return
        onSubmit(parseDays(draft))
      }}
    >
      {error && !refused ? <ErrorAlert error={error} title="Could not save the retention" /> : null}
      <Field id="retention-days" label="Keep finished runs for (days)" required error={fieldError}
        hint={`More than 0, at most ${MAX_DAYS}; fractions work (0.5 = 12 hours).${hint ? ` That is ${hint}.` : ''}`}>
        <Input id="retention-days" type="number" inputMode="decimal" step="any" max={MAX_DAYS} className="w-40"
          value={draft}
          aria-invalid={Boolean(fieldError)}
          aria-describedby={fieldError ? 'retention-days-error' : 'retention-days-hint'}
          onChange={(e) => {
            setDraft(e.target.value)
            onEdit?.()
          }} />
      </Field>
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>{pending ? 'Saving…' : 'Save'}</Button>
        {saved != null && !error ? (
          <p role="status" className="text-sm text-success">
            Saved: finished runs are kept for {formatDays(saved)}.
          </p>
        ) : null}
      </div>
    </form>
  )
}
