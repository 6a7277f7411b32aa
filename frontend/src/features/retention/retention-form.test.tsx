// @vitest-environment jsdom
import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import { RetentionForm } from './retention-form'

function renderForm(props: Partial<Parameters<typeof RetentionForm>[0]> = {}) {
  const onSubmit = vi.fn()
  const onEdit = vi.fn()
  const view = render(<RetentionForm initial={30} onSubmit={onSubmit} onEdit={onEdit} {...props} />)
  const field = screen.getByLabelText(/Keep finished runs for/) as HTMLInputElement
  return { onSubmit, onEdit, field, view }
}

describe('RetentionForm', () => {
  it('starts at the stored value and is filled and submitted from the keyboard', async () => {
    const user = userEvent.setup()
    const { onSubmit, onEdit, field } = renderForm()
    expect(field.value).toBe('30')
    await user.tab() // the field is the first control
    expect(document.activeElement).toBe(field)
    await user.clear(field)
    await user.keyboard('0.5')
    expect(screen.getByText(/That is 12 hours\./)).toBeTruthy()
    await user.keyboard('{Enter}')
    expect(onSubmit).toHaveBeenCalledWith(0.5)
    expect(onEdit).toHaveBeenCalled()
    await user.tab()
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Save' }))
  })

  it('checks the range itself and does not submit', async () => {
    const user = userEvent.setup()
    const { onSubmit, field } = renderForm()
    await user.clear(field)
    await user.click(screen.getByRole('button', { name: 'Save' }))
    expect(screen.getByRole('alert').textContent).toMatch(/^How many days/)
    for (const [typed, message] of [['0', 'More than 0 days.'], ['-2', 'More than 0 days.'], ['4000', 'At most 3650 days (10 years).']] as const) {
      await user.clear(field)
      await user.type(field, `${typed}{Enter}`)
      expect(screen.getByRole('alert').textContent, typed).toBe(message)
    }
    expect(field.getAttribute('aria-invalid')).toBe('true')
    expect(field.getAttribute('aria-describedby')).toBe('retention-days-error')
    expect(onSubmit).not.toHaveBeenCalled()
  })

  it('shows the server’s 422 message under the field', () => {
    const error = new ApiError(422, 'validation_error', 'Expected `float` <= 3650 - at `$.run_retention_days` (body)')
    const { field } = renderForm({ error })
    expect(screen.getByRole('alert').textContent).toBe(error.message)
    expect(field.getAttribute('aria-invalid')).toBe('true')
  })

  it('shows other failures above the form', () => {
    renderForm({ error: new ApiError(403, 'forbidden', 'This needs the manage permission.') })
    expect(screen.getByRole('alert').textContent).toContain('Could not save the retention')
    expect(screen.getByRole('alert').textContent).toContain('This needs the manage permission.')
    expect(screen.getByLabelText(/Keep finished runs for/).getAttribute('aria-invalid')).toBe('false')
  })

  it('says what was saved', () => {
    renderForm({ initial: 0.5, saved: 0.5 })
    expect(screen.getByRole('status').textContent).toBe('Saved: finished runs are kept for 0.5 days.')
  })

  it('says nothing while saving, and the button waits', () => {
    renderForm({ pending: true })
    expect(screen.queryByRole('status')).toBeNull()
    expect((screen.getByRole('button', { name: 'Saving…' }) as HTMLButtonElement).disabled).toBe(true)
  })
})
