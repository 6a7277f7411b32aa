// @vitest-environment jsdom
import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { RateLimit, Strategy } from '@/api/limits'
import { emptyDraft, draftFrom } from './rate-limit-draft'
import { RateLimitForm } from './rate-limit-form'
import { RateLimitsTable } from './rate-limits-table'

const base = { limit: { type: 'integer' as const }, window_seconds: { type: 'number' as const } }
const STRATEGIES: Strategy[] = [
  { name: 'fixed-window', title: 'Fixed window', config_schema: { type: 'object', properties: base } },
  { name: 'token-bucket', title: 'Token bucket', config_schema: { type: 'object', properties: { ...base, burst: { type: 'integer', minimum: 1, title: 'Burst' } } } },
]

function renderForm(initial = emptyDraft(), editing = false) {
  const onSubmit = vi.fn()
  render(
    <RateLimitForm initial={initial} editing={editing} strategies={STRATEGIES} defaultStrategy="fixed-window"
      onSubmit={onSubmit} onCancel={() => {}} />,
  )
  return onSubmit
}

describe('RateLimitForm', () => {
  it('is filled and submitted from the keyboard', async () => {
    const user = userEvent.setup()
    const onSubmit = renderForm()
    await user.keyboard('crm-api') // the key field has focus
    await user.tab()
    await user.keyboard('100{Enter}')
    expect(onSubmit).toHaveBeenCalledWith('crm-api', { limit: 100, window: 'minute', config: {} })
  })

  it('says what is wrong next to each field and does not submit', async () => {
    const user = userEvent.setup()
    const onSubmit = renderForm()
    await user.type(screen.getByLabelText(/Units/), 'lots')
    await user.click(screen.getByRole('button', { name: 'Save limit' }))
    expect(onSubmit).not.toHaveBeenCalled()
    expect(screen.getByLabelText(/Key/).getAttribute('aria-invalid')).toBe('true')
    expect(screen.getAllByRole('alert').map((a) => a.textContent)).toEqual([
      'Give the key tasks name in their rate_limits.',
      'A whole number.',
    ])
  })

  it('shows the chosen strategy’s own settings and sends them', async () => {
    const user = userEvent.setup()
    const onSubmit = renderForm()
    expect(screen.queryByLabelText(/Burst/)).toBeNull()
    await user.type(screen.getByLabelText(/Key/), 'k')
    await user.type(screen.getByLabelText(/Units/), '10')
    await user.selectOptions(screen.getByLabelText('Strategy'), 'token-bucket')
    await user.type(screen.getByLabelText(/Burst/), '3')
    await user.selectOptions(screen.getByLabelText('Per'), 'second')
    await user.click(screen.getByRole('button', { name: 'Save limit' }))
    expect(onSubmit).toHaveBeenCalledWith('k', { limit: 10, window: 'second', strategy: 'token-bucket', config: { burst: 3 } })
  })

  it('keeps the key of the limit being edited', async () => {
    const user = userEvent.setup()
    const existing: RateLimit = {
      key: 'crm-api', source: 'api', limit: 50, window: 'hour', window_seconds: 3600, strategy: 'fixed-window',
      config: {}, usage: null, updated_at: '2026-01-01T00:00:00Z',
    }
    const onSubmit = renderForm(draftFrom(existing), true)
    expect((screen.getByLabelText(/Key/) as HTMLInputElement).disabled).toBe(true)
    await user.clear(screen.getByLabelText(/Units/))
    await user.type(screen.getByLabelText(/Units/), '75{Enter}')
    expect(onSubmit).toHaveBeenCalledWith('crm-api', { limit: 75, window: 'hour', strategy: 'fixed-window', config: {} })
  })
})

describe('RateLimitsTable', () => {
  const limits: RateLimit[] = [
    { key: 'crm-api', source: 'api', limit: 100, window: 'minute', window_seconds: 60, strategy: 'token-bucket', config: {}, usage: { used: 80, remaining: 20 }, updated_at: '2026-01-01T00:00:00Z' },
    { key: 'user-7', source: 'dynamic', limit: null, window: null, window_seconds: null, strategy: 'fixed-window', config: {}, usage: null, updated_at: '2026-01-01T00:00:00Z' },
  ]

  it('shows usage, and edit/remove only to managers', async () => {
    const user = userEvent.setup()
    const onEdit = vi.fn()
    const { rerender } = render(<RateLimitsTable limits={limits} manage onEdit={onEdit} onRemove={() => {}} />)
    const [first, second] = screen.getAllByTestId('rate-limit-row')
    expect(within(first!).getByText('100 / minute')).toBeTruthy()
    expect(within(first!).getByText('80 used · 20 left')).toBeTruthy()
    expect(within(first!).getByRole('meter').getAttribute('aria-valuenow')).toBe('80')
    expect(within(second!).getByText('not set')).toBeTruthy()
    expect(within(second!).getByText('dynamic')).toBeTruthy()
    await user.click(screen.getByRole('button', { name: 'Edit crm-api' }))
    expect(onEdit).toHaveBeenCalledWith(limits[0])
    rerender(<RateLimitsTable limits={limits} manage={false} onEdit={onEdit} onRemove={() => {}} />)
    expect(screen.queryByRole('button', { name: /Edit|Remove/ })).toBeNull()
  })
})
