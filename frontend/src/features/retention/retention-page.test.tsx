// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { Me } from '@/api/auth'
import { keys } from '@/api/keys'
import { RetentionPage } from './retention-page'

/** The page over a cache that already holds `me` and the retention (fresh: nothing is fetched). */
function renderPage(role: 'owner' | 'viewer', days: number) {
  const me: Me = {
    kind: 'user',
    tenant: { id: '00000000-0000-0000-0000-000000000001', name: 'Acme' },
    role,
    permissions: role === 'owner' ? ['read', 'trigger', 'operate', 'manage', 'members'] : ['read'],
  }
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  client.setQueryData(keys.me, me)
  client.setQueryData(keys.retention, { run_retention_days: days })
  render(<QueryClientProvider client={client}><RetentionPage /></QueryClientProvider>)
}

describe('RetentionPage', () => {
  it('shows the retention with its hint, and the form to managers', () => {
    renderPage('owner', 0.5)
    expect(screen.getByTestId('retention-current').textContent).toBe('0.5 days')
    expect(screen.getByTestId('retention-hint').textContent).toBe('12 hours')
    expect((screen.getByLabelText(/Keep finished runs for/) as HTMLInputElement).value).toBe('0.5')
    expect(screen.getByRole('button', { name: 'Save' })).toBeTruthy()
  })

  it('shows the value without a form, and says why, to the others', () => {
    renderPage('viewer', 30)
    expect(screen.getByTestId('retention-current').textContent).toBe('30 days')
    expect(screen.queryByTestId('retention-hint')).toBeNull() // "30 days" says it all
    expect(screen.queryByRole('form')).toBeNull()
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull()
    expect(screen.getByText(/only owners and admins can change how long runs are kept/).textContent).toMatch(/^You are a viewer here/)
  })
})
