import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { PlayCircleIcon, SearchXIcon } from 'lucide-react'
import { type RunSummary, runsQuery } from '@/api/runs'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Pager, useCursorPager } from '@/components/pager'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { durationBetween, formatDateTime, formatDuration, formatRelative } from '@/lib/format'
import { RunsFilterBar } from './filter-bar'
import { filtersToSearch, hasFilters, searchToFilters } from './filters'
import { StatusBadge } from './status'
import { TriggerRunDialog } from './trigger-run-dialog'
import { shortId } from '@/lib/ids'

const route = getRouteApi('/app/runs')

export function RunsPage() {
  const search = route.useSearch()
  const navigate = route.useNavigate()
  const filters = searchToFilters(search)
  const runs = useQuery(runsQuery(search))
  const { cursor: _cursor, ...withoutCursor } = search
  const pager = useCursorPager({
    cursor: filters.cursor,
    resetKey: JSON.stringify(withoutCursor),
    setCursor: (cursor) => void navigate({ search: (prev) => ({ ...prev, cursor }) }),
  })

  return (
    <>
      <PageHeader
        title="Runs"
        description="Every workflow run in this tenant, newest first. Filters live in the address bar: share the link."
        actions={<TriggerRunDialog />}
      />
      <RunsFilterBar filters={filters} onChange={(next) => void navigate({ search: filtersToSearch(next) })} />
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
              <TableHead>Run</TableHead>
              <TableHead>Workflow</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Created</TableHead>
              <TableHead>Duration</TableHead>
              <TableHead>Metadata</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {runs.data.items.map((run) => <RunRow key={run.id} run={run} />)}
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

function RunRow({ run }: { run: RunSummary }) {
  const metadata = Object.entries(run.metadata ?? {})
  return (
    <TableRow data-testid="run-row" data-status={run.status}>
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
