// @vitest-environment jsdom
import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'
import type { RunStatus } from './filters'
import { StatusChips, type StatusCounts } from './status-chips'

const COUNTS: StatusCounts = {
  total: 12_345,
  counts: { pending: 0, queued: 3, running: 2, succeeded: 12_000, failed: 300, cancelled: 40 },
}

function Harness({ counts, initial = [] }: { counts?: StatusCounts; initial?: RunStatus[] }) {
  const [selected, setSelected] = useState<RunStatus[]>(initial)
  return (
    <>
      <StatusChips selected={selected} counts={counts} onChange={setSelected} />
      <output data-testid="selected">{selected.join(',')}</output>
    </>
  )
}

const chip = (name: RegExp) => screen.getByRole('button', { name })

describe('StatusChips', () => {
  it('shows every status with its count, and the total on "All"', () => {
    render(<Harness counts={COUNTS} />)
    expect(chip(/^All/).textContent).toContain('12,345')
    expect(chip(/^succeeded/).textContent).toContain('12,000')
    expect(chip(/^failed/).textContent).toContain('300')
    expect(chip(/^All/).getAttribute('aria-pressed')).toBe('true')
  })

  it('toggles several statuses on and off; "All" clears them', async () => {
    const user = userEvent.setup()
    render(<Harness counts={COUNTS} />)
    await user.click(chip(/^failed/))
    await user.click(chip(/^queued/))
    expect(screen.getByTestId('selected').textContent).toBe('queued,failed')
    expect(chip(/^failed/).getAttribute('aria-pressed')).toBe('true')
    expect(chip(/^All/).getAttribute('aria-pressed')).toBe('false')
    await user.click(chip(/^failed/))
    expect(screen.getByTestId('selected').textContent).toBe('queued')
    await user.click(chip(/^All/))
    expect(screen.getByTestId('selected').textContent).toBe('')
  })

  it('works from the keyboard', async () => {
    const user = userEvent.setup()
    render(<Harness counts={COUNTS} />)
    await user.tab()
    await user.tab() // "All", then "pending"
    await user.keyboard('{Enter}')
    expect(screen.getByTestId('selected').textContent).toBe('pending')
  })

  it('leaves counts blank while they load instead of showing zeros', () => {
    render(<Harness initial={['failed']} />)
    for (const count of screen.getAllByTestId('status-count')) expect(count.textContent).toBe('')
  })
})
