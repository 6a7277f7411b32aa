import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { BanIcon, PlayCircleIcon, RotateCcwIcon, SearchXIcon } from 'lucide-react'
import { useEffect, useState } from 'react'
import { errorMessage } from '@/api/errors'
import { runCountsQuery, type RunSummary, runsQuery, useBulkRunAction } from '@/api/runs'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Pager, useCursorPager } from '@/components/pager'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Checkbox } from '@/components/ui/input'
import { toast } from '@/components/ui/toast'
import { EmptyState } from '@/components/ui/empty-state'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { durationBetween, formatDateTime, formatDuration, formatRelative } from '@/lib/format'
import { RunsFilterBar } from './filter-bar'
import { filtersToSearch, hasFilters, searchToFilters } from './filters'
import { StatusBadge } from './status'
import { useCanOperate } from './run-actions'
import { TriggerRunDialog } from './trigger-run-dialog'
import { shortId } from '@/lib/ids'

const route = getRouteApi('/app/runs')

export function RunsPage() {
  const search = route.useSearch()
  const navigate = route.useNavigate()
  const filters = searchToFilters(search)
  const runs = useQuery(runsQuery(search))
  const counts = useQuery(runCountsQuery(search))
  const { cursor: _cursor, ...withoutCursor } = search
  const pager = useCursorPager({
    cursor: filters.cursor,
    resetKey: JSON.stringify(withoutCursor),
    setCursor: (cursor) => void navigate({ search: (prev) => ({ ...prev, cursor }) }),
  })
  const operate = useCanOperate()
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const searchKey = JSON.stringify(search)
  // A selection belongs to the page it was made on.
  useEffect(() => setSelected(new Set()), [searchKey])
  const items = runs.data?.items ?? []
  const allSelected = items.length > 0 && items.every((r) => selected.has(r.id))
  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current)
      if (on) next.add(id)
      else next.delete(id)
      return next
    })

  return (
    <>
      <PageHeader
        title="Runs"
        description="Every workflow run in this tenant, newest first. Filters live in the address bar: share the link."
        actions={<TriggerRunDialog />}
      />
      <RunsFilterBar filters={filters} counts={counts.data} onChange={(next) => void navigate({ search: filtersToSearch(next) })} />
      {selected.size > 0 ? <BulkBar ids={[...selected]} onDone={() => setSelected(new Set())} /> : null}
      {runs.isPending ? (
        <TableSkeleton rows={10} columns={5} />
      ) : runs.isError ? (
        <ErrorAlert error={runs.error} title="Could not load runs" onRetry={() => void runs.refetch()} />
      ) : runs.data.items.length === 0 ? (
        hasFilters(filters) ? (
          <EmptyState icon={SearchXIcon} title="No runs match these filters"
            action={<Button variant="outline" onClick={() => void navigate({ search: {} })}>Clear filters</Button>}>
            Widen the time range or pick another status or workflow.
          </EmptyState>
        ) : (
          <EmptyState icon={PlayCircleIcon} title="No runs yet"
            action={
              <>
                <TriggerRunDialog />
                <Button asChild variant="outline"><Link to="/onboarding">Set up a worker</Link></Button>
              </>
            }>
            Runs appear here when a workflow is triggered — from the SDK, an event, a cron, or the button below.
          </EmptyState>
        )
      ) : (
        <Table aria-label="Runs" aria-busy={runs.isFetching}>
          <TableHeader>
            <TableRow>
              {operate ? (
                <TableHead className="w-8">
                  <Checkbox aria-label="Select all runs on this page" checked={allSelected}
                    onChange={(e) => setSelected(e.target.checked ? new Set(items.map((r) => r.id)) : new Set())} />
                </TableHead>
              ) : null}
              <TableHead>Run</TableHead>
              <TableHead>Workflow</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Created</TableHead>
              <TableHead>Duration</TableHead>
              <TableHead>Metadata</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {runs.data.items.map((run) => (
              <RunRow key={run.id} run={run} selectable={operate} selected={selected.has(run.id)} onSelect={(on) => toggle(run.id, on)} />
            ))}
          </TableBody>
        </Table>
      )}
      <Pager
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        nextCursor={runs.data?.next_cursor}
        onPrevious={pager.previous}
        onNext={pager.next}
        busy={runs.isFetching && runs.isPlaceholderData}
      />
    </>
  )
}

function BulkBar({ ids, onDone }: { ids: string[]; onDone: () => void }) {
  const cancel = useBulkRunAction('cancel')
  const replay = useBulkRunAction('replay')
  const busy = cancel.isPending || replay.isPending
  const run = (action: typeof cancel, verb: string) =>
    action.mutate(ids, {
      onSuccess: (result) => {
        const skipped = result.skipped?.length ?? 0
        toast(`${verb} ${result.ids.length} run${result.ids.length === 1 ? '' : 's'}`, {
          variant: 'success',
          description: skipped ? `${skipped} skipped: ${verb === 'Cancelled' ? 'already finished' : 'still running'}.` : undefined,
        })
        onDone()
      },
      onError: (error) => toast(`Could not ${verb === 'Cancelled' ? 'cancel' : 'replay'}`, { description: errorMessage(error), variant: 'error' }),
    })
  return (
    <div className="mb-3 flex flex-wrap items-center gap-2 rounded-lg border bg-muted/40 px-3 py-2 text-sm" role="region" aria-label="Bulk actions">
      <span className="mr-2 font-medium">{ids.length} selected</span>
      <Button size="sm" variant="outline" disabled={busy} onClick={() => run(cancel, 'Cancelled')}>
        <BanIcon /> Cancel
      </Button>
      <Button size="sm" variant="outline" disabled={busy} onClick={() => run(replay, 'Replaying')}>
        <RotateCcwIcon /> Replay
      </Button>
      <Button size="sm" variant="ghost" disabled={busy} onClick={onDone}>Clear selection</Button>
    </div>
  )
}

function RunRow({ run, selectable, selected, onSelect }: { run: RunSummary; selectable: boolean; selected: boolean; onSelect: (on: boolean) => void }) {
  const metadata = Object.entries(run.metadata ?? {})
  return (
    <TableRow data-testid="run-row" data-status={run.status} data-state={selected ? 'selected' : undefined}>
      {selectable ? (
        <TableCell>
          <Checkbox aria-label={`Select run ${shortId(run.id)}`} checked={selected} onChange={(e) => onSelect(e.target.checked)} />
        </TableCell>
      ) : null}
      <TableCell>
        <Link to="/runs/$runId" params={{ runId: run.id }} title={run.id} className="font-mono text-xs font-medium text-primary hover:underline">
          {shortId(run.id)}
        </Link>
      </TableCell>
      <TableCell className="font-medium">{run.workflow}</TableCell>
      <TableCell><StatusBadge status={run.status} /></TableCell>
      <TableCell className="whitespace-nowrap" title={formatDateTime(run.created_at)}>{formatRelative(run.created_at)}</TableCell>
      <TableCell className="whitespace-nowrap tabular-nums">
        {formatDuration(durationBetween(run.started_at, run.finished_at))}
      </TableCell>
      <TableCell>
        <div className="flex max-w-72 flex-wrap gap-1">
          {metadata.slice(0, 3).map(([key, value]) => (
            <Badge key={key} variant="outline" className="max-w-40 truncate font-mono font-normal">
              {key}:{typeof value === 'string' ? value : JSON.stringify(value)}
            </Badge>
          ))}
          {metadata.length > 3 ? <Badge variant="muted">+{metadata.length - 3}</Badge> : null}
        </div>
      </TableCell>
    </TableRow>
  )
}
