import { useQuery } from '@tanstack/react-query'
import { XIcon } from 'lucide-react'
import { useEffect, useState } from 'react'
import { workflowsQuery } from '@/api/workflows'
import { Button } from '@/components/ui/button'
import { Input, Label, NativeSelect } from '@/components/ui/input'
import {
  formatMetadata,
  hasFilters,
  parseMetadata,
  type RunsFilters,
  TIME_RANGES,
  type TimeRange,
} from './filters'
import { StatusChips, type StatusCounts } from './status-chips'

const RANGE_LABELS: Record<TimeRange, string> = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '6h': 'Last 6 hours',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  custom: 'Custom range…',
}

/** ISO instant → the value of a `datetime-local` input (local time, minutes). */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000)
  return local.toISOString().slice(0, 16)
}

export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** Filters of the runs list. Every change goes to the URL (and resets the page). */
export function RunsFilterBar({
  filters,
  counts,
  onChange,
}: {
  filters: RunsFilters
  counts: StatusCounts | undefined
  onChange: (next: RunsFilters) => void
}) {
  const workflows = useQuery(workflowsQuery)
  const [meta, setMeta] = useState(formatMetadata(filters.metadata) ?? '')
  const currentMeta = formatMetadata(filters.metadata) ?? ''
  useEffect(() => setMeta(currentMeta), [currentMeta])
  const update = (patch: Partial<RunsFilters>) => onChange({ ...filters, ...patch, cursor: undefined })
  const names = workflows.data?.items.map((w) => w.name) ?? []
  if (filters.workflow && !names.includes(filters.workflow)) names.unshift(filters.workflow)

  return (
    <div className="mb-4 grid gap-3">
      <StatusChips selected={filters.statuses} counts={counts} onChange={(statuses) => update({ statuses })} />
      <div className="flex flex-wrap items-end gap-3">
        <div className="grid gap-1.5">
          <Label htmlFor="runs-workflow">Workflow</Label>
          <NativeSelect id="runs-workflow" className="w-52" value={filters.workflow ?? ''}
            onChange={(e) => update({ workflow: e.target.value || undefined })}>
            <option value="">All workflows</option>
            {names.map((name) => <option key={name} value={name}>{name}</option>)}
          </NativeSelect>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="runs-range">Created</Label>
          <NativeSelect
            id="runs-range"
            className="w-44"
            value={filters.range ?? ''}
            onChange={(e) => {
              const range = (e.target.value || undefined) as TimeRange | undefined
              if (range === 'custom') {
                // Start from the last 24 hours so the range is valid at once.
                update({ range, from: new Date(Date.now() - TIME_RANGES['24h']).toISOString(), to: undefined })
              } else {
                update({ range, from: undefined, to: undefined })
              }
            }}
          >
            <option value="">Any time</option>
            {(Object.keys(RANGE_LABELS) as TimeRange[]).map((range) => (
              <option key={range} value={range}>{RANGE_LABELS[range]}</option>
            ))}
          </NativeSelect>
        </div>
        {filters.range === 'custom' ? (
          <>
            <div className="grid gap-1.5">
              <Label htmlFor="runs-from">From</Label>
              <Input id="runs-from" type="datetime-local" className="w-52" value={isoToLocalInput(filters.from)}
                onChange={(e) => update({ from: localInputToIso(e.target.value) })} />
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="runs-to">To</Label>
              <Input id="runs-to" type="datetime-local" className="w-52" value={isoToLocalInput(filters.to)}
                onChange={(e) => update({ to: localInputToIso(e.target.value) })} />
            </div>
          </>
        ) : null}
        <form
          className="grid gap-1.5"
          onSubmit={(e) => {
            e.preventDefault()
            update({ metadata: parseMetadata(meta) })
          }}
        >
          <Label htmlFor="runs-meta">Metadata</Label>
          <Input id="runs-meta" className="w-64" placeholder="customer:acme, region:eu" value={meta}
            onChange={(e) => setMeta(e.target.value)} onBlur={() => update({ metadata: parseMetadata(meta) })} />
        </form>
        {hasFilters(filters) ? (
          <Button variant="ghost" size="sm" className="mb-0.5"
            onClick={() => onChange({ statuses: [], metadata: {} })}>
            <XIcon /> Clear filters
          </Button>
        ) : null}
      </div>
    </div>
  )
}
