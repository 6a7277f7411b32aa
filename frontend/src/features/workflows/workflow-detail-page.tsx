import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { ArrowLeftIcon, ListIcon } from 'lucide-react'
import { ApiError } from '@/api/errors'
import { workflowQuery } from '@/api/workflows'
import { ErrorAlert } from '@/components/error-alert'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Skeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { DagView } from '@/features/dag/dag-view'
import { RecentRuns } from './recent-runs'
import { TriggerRunDialog } from '@/features/runs/trigger-run-dialog'
import { formatDateTime, formatDuration } from '@/lib/format'

const route = getRouteApi('/app/workflows/$name')

export function WorkflowDetailPage() {
  const { name } = route.useParams()
  const workflow = useQuery(workflowQuery(name))
  return (
    <>
      <Button asChild variant="ghost" size="sm" className="mb-3 -ml-2">
        <Link to="/workflows"><ArrowLeftIcon /> Workflows</Link>
      </Button>
      {workflow.isPending ? (
        <div className="grid gap-4"><Skeleton className="h-8 w-64" /><Skeleton className="h-96" /></div>
      ) : workflow.isError ? (
        <ErrorAlert error={workflow.error}
          title={workflow.error instanceof ApiError && workflow.error.isNotFound ? `No workflow named “${name}”` : 'Could not load the workflow'}
          onRetry={() => void workflow.refetch()} />
      ) : (
        <>
          <header className="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div className="grid gap-1">
              <h1 className="text-2xl font-semibold tracking-tight">
                {workflow.data.name} <span className="text-base font-normal text-muted-foreground">v{workflow.data.version}</span>
              </h1>
              {workflow.data.description ? <p className="text-sm text-muted-foreground">{workflow.data.description}</p> : null}
              <div className="mt-1 flex flex-wrap gap-1">
                {workflow.data.on_events.map((e) => <Badge key={e} variant="info" className="font-mono">event {e}</Badge>)}
                {workflow.data.on_crons.map((c) => <Badge key={c} variant="secondary" className="font-mono">cron {c}</Badge>)}
              </div>
            </div>
            <div className="flex gap-2">
              <Button asChild variant="outline">
                <Link to="/runs" search={{ workflow: workflow.data.name }}><ListIcon /> Runs</Link>
              </Button>
              <TriggerRunDialog defaultWorkflow={workflow.data.name} />
            </div>
          </header>
          <DagView
            tasks={workflow.data.tasks.map((t) => ({
              name: t.name,
              parents: t.parents,
              detail: `${t.retries ? `${t.retries} retries · ` : ''}timeout ${formatDuration(t.execution_timeout * 1000)}`,
            }))}
            height={Math.min(560, 140 + workflow.data.tasks.length * 40)}
          />
          <div className="mt-6 grid gap-6 lg:grid-cols-2">
            <section aria-labelledby="tasks-heading">
              <h2 id="tasks-heading" className="mb-2 font-semibold">Tasks</h2>
              <Table aria-label="Tasks">
                <TableHeader>
                  <TableRow><TableHead>Task</TableHead><TableHead>After</TableHead><TableHead>Retries</TableHead><TableHead>Timeout</TableHead></TableRow>
                </TableHeader>
                <TableBody>
                  {workflow.data.tasks.map((t) => (
                    <TableRow key={t.name}>
                      <TableCell className="font-medium">{t.name}</TableCell>
                      <TableCell className="text-muted-foreground">{t.parents.join(', ') || '—'}</TableCell>
                      <TableCell className="tabular-nums">{t.retries}</TableCell>
                      <TableCell className="tabular-nums">{formatDuration(t.execution_timeout * 1000)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </section>
            <section aria-labelledby="versions-heading">
              <h2 id="versions-heading" className="mb-2 font-semibold">Versions</h2>
              <Table aria-label="Versions">
                <TableHeader>
                  <TableRow><TableHead>Version</TableHead><TableHead>Checksum</TableHead><TableHead>Registered</TableHead></TableRow>
                </TableHeader>
                <TableBody>
                  {[...workflow.data.versions].sort((a, b) => b.version - a.version).map((v) => (
                    <TableRow key={v.version}>
                      <TableCell className="tabular-nums">v{v.version}</TableCell>
                      <TableCell><code className="font-mono text-xs">{v.checksum.slice(0, 12)}</code></TableCell>
                      <TableCell>{formatDateTime(v.created_at)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </section>
          </div>
          <RecentRuns workflow={workflow.data.name} />
        </>
      )}
    </>
  )
}
