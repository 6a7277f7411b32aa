import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { WorkflowIcon } from 'lucide-react'
import { workflowsQuery } from '@/api/workflows'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatDateTime, formatRelative } from '@/lib/format'

export function WorkflowsPage() {
  const workflows = useQuery(workflowsQuery)
  return (
    <>
      <PageHeader title="Workflows" description="Workflow definitions registered by your workers, newest version of each." />
      {workflows.isPending ? (
        <TableSkeleton columns={5} />
      ) : workflows.isError ? (
        <ErrorAlert error={workflows.error} title="Could not load workflows" onRetry={() => void workflows.refetch()} />
      ) : workflows.data.items.length === 0 ? (
        <EmptyState icon={WorkflowIcon} title="No workflows yet"
          action={<Button asChild><Link to="/onboarding">Start your first worker</Link></Button>}>
          Workers register their workflows when they start. Define one with the Python SDK and run a worker.
        </EmptyState>
      ) : (
        <Table aria-label="Workflows">
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>Version</TableHead>
              <TableHead>Tasks</TableHead>
              <TableHead>Triggers</TableHead>
              <TableHead>Updated</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {workflows.data.items.map((wf) => (
              <TableRow key={wf.name}>
                <TableCell>
                  <Link to="/workflows/$name" params={{ name: wf.name }} className="font-medium text-primary hover:underline">{wf.name}</Link>
                  {wf.description ? <p className="max-w-md truncate text-xs text-muted-foreground">{wf.description}</p> : null}
                </TableCell>
                <TableCell className="tabular-nums">v{wf.version}</TableCell>
                <TableCell className="tabular-nums">{wf.tasks.length}</TableCell>
                <TableCell>
                  <div className="flex flex-wrap gap-1">
                    {wf.on_events.map((e) => <Badge key={e} variant="info" className="font-mono">event {e}</Badge>)}
                    {wf.on_crons.map((c) => <Badge key={c} variant="secondary" className="font-mono">cron {c}</Badge>)}
                    {wf.on_events.length + wf.on_crons.length === 0 ? <span className="text-muted-foreground">API only</span> : null}
                  </div>
                </TableCell>
                <TableCell title={formatDateTime(wf.updated_at)}>{formatRelative(wf.updated_at)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </>
  )
}
