// @vitest-environment jsdom
import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { DurableLog, durableCalls } from './durable-log'
import { StatusBadge, statusStyle } from './status'

describe('DurableLog', () => {
  const durable = [
    { seq: 2, kind: 'wait', name: 'approved', status: 'waiting' },
    { seq: 1, kind: 'step', name: 'charge', status: 'done' },
  ]

  it('lists the calls in order and says what the suspended task waits for', () => {
    render(<DurableLog task={{ durable, status: 'pending', waiting_for: "durable wait: event 'approved' (scope 'order-7')" }} />)
    const calls = screen.getAllByTestId('durable-call')
    expect(calls.map((c) => [c.textContent?.includes(c.dataset.status === 'done' ? 'charge' : 'approved'), c.dataset.status])).toEqual([
      [true, 'done'],
      [true, 'waiting'],
    ])
    expect(screen.getByTestId('durable-waiting').textContent).toBe("Suspended, waiting for event 'approved' (scope 'order-7')")
  })

  it('shows nothing for a task without durable calls, and drops malformed entries', () => {
    const { container } = render(<DurableLog task={{ durable: [], status: 'running', waiting_for: null }} />)
    expect(container.innerHTML).toBe('')
    expect(durableCalls({ durable: [{ seq: 'x' }, { kind: 'step' }, { seq: 1, kind: 'sleep', name: null, status: 'done' }] })).toEqual([
      { seq: 1, kind: 'sleep', name: null, status: 'done' },
    ])
  })
})

describe('skipped status', () => {
  it('has a look of its own, distinct from the other finished states', () => {
    const skipped = statusStyle('skipped')
    expect(skipped.variant).toBe('skipped')
    for (const other of ['succeeded', 'failed', 'cancelled', 'some-future-status']) {
      expect(statusStyle(other).node).not.toBe(skipped.node)
    }
    render(<StatusBadge status="skipped" />)
    expect(screen.getByText('skipped').getAttribute('data-status')).toBe('skipped')
  })
})
