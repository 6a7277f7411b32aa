import { Button } from '@/components/ui/button'
import { cn } from '@/lib/utils'
import { RUN_STATUSES, type RunStatus, toggleStatus } from './filters'
import { statusStyle } from './status'

export interface StatusCounts {
  counts: Record<string, number>
  total: number
}

/** `1234` → `"1,234"`; an unknown count (still loading) shows nothing rather than a wrong 0. */
function formatCount(value: number | undefined): string {
  return value === undefined ? '' : value.toLocaleString('en-US')
}

/**
 * The runs page's status filter: one chip per status with how many runs it has under the other
 * filters. Chips toggle (several may be on: any of them matches); "All" clears the selection.
 */
export function StatusChips({
  selected,
  counts,
  onChange,
}: {
  selected: readonly RunStatus[]
  counts: StatusCounts | undefined
  onChange: (next: RunStatus[]) => void
}) {
  const none = selected.length === 0
  return (
    <div role="group" aria-label="Status" className="flex flex-wrap gap-1.5">
      <Chip label="All" count={counts?.total} active={none} onClick={() => onChange([])} />
      {RUN_STATUSES.map((status) => (
        <Chip
          key={status}
          label={status}
          status={status}
          count={counts?.counts[status]}
          active={selected.includes(status)}
          onClick={() => onChange(toggleStatus(selected, status))}
        />
      ))}
    </div>
  )
}

function Chip({
  label,
  status,
  count,
  active,
  onClick,
}: {
  label: string
  status?: RunStatus
  count: number | undefined
  active: boolean
  onClick: () => void
}) {
  const Icon = status ? statusStyle(status).icon : null
  return (
    <Button
      size="sm"
      variant={active ? 'secondary' : 'ghost'}
      aria-pressed={active}
      data-testid={`status-chip-${status ?? 'all'}`}
      className={cn('capitalize', active && 'ring-1 ring-border')}
      onClick={onClick}
    >
      {Icon ? <Icon aria-hidden className={cn(statusStyle(status).text)} /> : null}
      {label}
      <span className="min-w-4 tabular-nums text-muted-foreground" data-testid="status-count">
        {formatCount(count)}
      </span>
    </Button>
  )
}
