import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { PlayCircleIcon } from 'lucide-react'
import { runsQuery } from '@/api/runs'
import { ErrorAlert } from '@/components/error-alert'
import { EmptyState } from '@/components/ui/empty-state'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { StatusBadge } from '@/features/runs/status'
import { TriggerRunDialog } from '@/features/runs/trigger-run-dialog'
import { durationBetween, formatDateTime, formatDuration, formatRelative } from '@/lib/format'
import { shortId } from '@/lib/ids'

const SHOWN = 10

/** The workflow's latest runs (the runs page's first page for it, so the cache is shared). */
export function RecentRuns({ workflow }: { workflow: string }) {
  const runs = useQuery(runsQuery({ workflow }))
  return (
    <section aria-labelledby="recent-runs-heading" className="mt-6">
      <div className="mb-2 flex items-baseline justify-between gap-2">
        <h2 id="recent-runs-heading" className="font-semibold">Recent runs</h2>
        <Link to="/runs" search={{ workflow }} className="text-sm text-primary hover:underline">All runs of {workflow}</Link>
      </div>
      {runs.isPending ? (
        <TableSkeleton rows={3} columns={4} />
      ) : runs.isError ? (
        <ErrorAlert error={runs.error} title="Could not load runs" onRetry={() => void runs.refetch()} />
      ) : runs.data.items.length === 0 ? (
        <EmptyState icon={PlayCircleIcon} title="No runs of this workflow yet" action={<TriggerRunDialog defaultWorkflow={workflow} />}>
          Trigger one here, from the SDK, or with an event or cron it listens to.
        </EmptyState>
      ) : (
        <Table aria-label="Recent runs">
          <TableHeader>
            <TableRow><TableHead>Run</TableHead><TableHead>Status</TableHead><TableHead>Created</TableHead><TableHead>Duration</TableHead></TableRow>
          </TableHeader>
          <TableBody>
            {runs.data.items.slice(0, SHOWN).map((run) => (
              <TableRow key={run.id}>
                <TableCell>
                  <Link to="/runs/$runId" params={{ runId: run.id }} className="font-mono text-xs font-medium text-primary hover:underline">{shortId(run.id)}</Link>
                </TableCell>
                <TableCell><StatusBadge status={run.status} /></TableCell>
                <TableCell className="whitespace-nowrap" title={formatDateTime(run.created_at)}>{formatRelative(run.created_at)}</TableCell>
                <TableCell className="tabular-nums">{formatDuration(durationBetween(run.started_at, run.finished_at))}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  )
}
