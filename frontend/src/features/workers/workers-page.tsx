import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { CpuIcon } from 'lucide-react'
import { type Worker, workersQuery } from '@/api/workers'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatDateTime, formatRelative } from '@/lib/format'
import { shortId } from '@/lib/ids'

const STATUS_VARIANT: Record<string, 'success' | 'muted' | 'destructive'> = {
  active: 'success',
  stopped: 'muted',
  lost: 'destructive',
}

export function WorkersPage() {
  const workers = useQuery(workersQuery)
  return (
    <>
      <PageHeader title="Workers" description="Worker processes serving this tenant: what they run, how busy they are, when they last checked in. Live: workers joining, stopping or going silent show up at once." />
      {workers.isPending ? (
        <TableSkeleton columns={6} />
      ) : workers.isError ? (
        <ErrorAlert error={workers.error} title="Could not load workers" onRetry={() => void workers.refetch()} />
      ) : workers.data.items.length === 0 ? (
        <EmptyState icon={CpuIcon} title="No workers connected"
          action={<Button asChild><Link to="/onboarding">Start a worker</Link></Button>}>
          A worker is your own process running the Kiln SDK with an API key that has the worker scope.
        </EmptyState>
      ) : (
        <Table aria-label="Workers">
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Slots in use</TableHead>
              <TableHead>Actions</TableHead>
              <TableHead>Labels</TableHead>
              <TableHead>Last heartbeat</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {workers.data.items.map((w) => <WorkerRow key={w.id} worker={w} />)}
          </TableBody>
        </Table>
      )}
    </>
  )
}

function WorkerRow({ worker }: { worker: Worker }) {
  const used = worker.slots ? Math.min(1, worker.running / worker.slots) : 0
  const labels = Object.entries(worker.labels ?? {})
  return (
    <TableRow data-testid="worker-row" data-status={worker.status}>
      <TableCell>
        <span className="font-medium">{worker.name}</span>
        <p className="font-mono text-xs text-muted-foreground">{shortId(worker.id)}</p>
      </TableCell>
      <TableCell><Badge variant={STATUS_VARIANT[worker.status] ?? 'muted'}>{worker.status}</Badge></TableCell>
      <TableCell>
        <div className="flex items-center gap-2">
          <div className="h-2 w-24 overflow-hidden rounded-full bg-muted" role="meter" aria-valuemin={0}
            aria-valuemax={worker.slots} aria-valuenow={worker.running} aria-label={`${worker.running} of ${worker.slots} slots in use`}>
            <div className="h-full bg-primary" style={{ width: `${used * 100}%` }} />
          </div>
          <span className="text-xs tabular-nums text-muted-foreground">{worker.running}/{worker.slots}</span>
        </div>
      </TableCell>
      <TableCell>
        <div className="flex max-w-80 flex-wrap gap-1">
          {worker.actions.slice(0, 4).map((a) => <Badge key={a} variant="outline" className="font-mono font-normal">{a}</Badge>)}
          {worker.actions.length > 4 ? <Badge variant="muted" title={worker.actions.join('\n')}>+{worker.actions.length - 4}</Badge> : null}
        </div>
      </TableCell>
      <TableCell>
        <div className="flex flex-wrap gap-1">
          {labels.map(([k, v]) => <Badge key={k} variant="secondary" className="font-mono font-normal">{k}={String(v)}</Badge>)}
          {labels.length === 0 ? <span className="text-muted-foreground">—</span> : null}
        </div>
      </TableCell>
      <TableCell title={`Last heartbeat ${formatDateTime(worker.last_heartbeat_at)}`}>
        {/* An active worker heartbeats every few seconds (it turns lost, live, when it stops);
            its last time would only be stale here, so the time shows once it no longer moves. */}
        {worker.status === 'active' ? (
          <span className="inline-flex items-center gap-1.5 text-success"><span className="size-2 animate-pulse rounded-full bg-success" aria-hidden />heartbeating</span>
        ) : (
          formatRelative(worker.last_heartbeat_at)
        )}
      </TableCell>
    </TableRow>
  )
}
