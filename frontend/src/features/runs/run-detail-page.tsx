import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { ArrowLeftIcon } from 'lucide-react'
import { ApiError } from '@/api/errors'
import { type Run, runQuery } from '@/api/runs'
import { CopyButton } from '@/components/copy-button'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import { Skeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { DagView } from '@/features/dag/dag-view'
import { durationBetween, formatDateTime, formatDuration } from '@/lib/format'
import { cn } from '@/lib/utils'
import { GanttView } from './gantt-view'
import { ReplayFromHere, RunActions } from './run-actions'
import { ErrorBlock, JsonBlock } from './json-block'
import { StatusBadge, StatusLegend } from './status'
import { TaskPanel } from './task-panel'

const route = getRouteApi('/app/runs/$runId')
export type RunTab = 'graph' | 'timeline' | 'data'

export function RunDetailPage() {
  const { runId } = route.useParams()
  const { task: selectedTask, tab = 'graph' } = route.useSearch()
  const navigate = route.useNavigate()
  const run = useQuery(runQuery(runId))
  const select = (task: string) => void navigate({ search: (prev) => ({ ...prev, task }), replace: true })

  if (run.isPending) {
    return (
      <div className="grid gap-4" role="status" aria-label="Loading run">
        <Skeleton className="h-8 w-80" />
        <Skeleton className="h-5 w-full max-w-xl" />
        <Skeleton className="h-96 w-full" />
      </div>
    )
  }
  if (run.isError) {
    return (
      <>
        <BackLink />
        <ErrorAlert error={run.error} title={run.error instanceof ApiError && run.error.isNotFound ? 'Run not found' : 'Could not load the run'}
          onRetry={() => void run.refetch()} />
      </>
    )
  }
  const data = run.data
  const task = data.tasks.find((t) => t.name === selectedTask) ?? failedOrFirst(data)

  return (
    <>
      <BackLink />
      <header className="mb-6 grid gap-2">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight">
            <Link to="/workflows/$name" params={{ name: data.workflow }} className="hover:underline">{data.workflow}</Link>
            <span className="ml-2 text-base font-normal text-muted-foreground">v{data.version}</span>
          </h1>
          <StatusBadge status={data.status} className="text-sm" />
          <div className="ml-auto flex gap-2">
            <RunActions run={data} />
          </div>
        </div>
        <div className="flex flex-wrap items-center gap-x-6 gap-y-1 text-sm text-muted-foreground">
          <span className="flex items-center gap-1">
            <code className="font-mono text-xs">{data.id}</code>
            <CopyButton value={data.id} label="Copy id" variant="ghost" size="sm" />
          </span>
          <span>Created {formatDateTime(data.created_at)}</span>
          <span>Duration {formatDuration(durationBetween(data.started_at, data.finished_at))}</span>
          <span>{summarise(data)}</span>
        </div>
      </header>
      {data.error ? <div className="mb-4"><ErrorBlock error={data.error} /></div> : null}
      <Tabs value={tab} onValueChange={(value) => void navigate({ search: (prev) => ({ ...prev, tab: value as RunTab }), replace: true })}>
        <TabsList>
          <TabsTrigger value="graph">Graph</TabsTrigger>
          <TabsTrigger value="timeline">Timeline</TabsTrigger>
          <TabsTrigger value="data">Input & output</TabsTrigger>
        </TabsList>
        <TabsContent value="graph" className="grid gap-4">
          <DagView
            tasks={data.tasks.map((t) => ({
              name: t.name,
              parents: t.parents,
              status: t.status,
              detail: nodeDetail(t),
            }))}
            selected={task?.name}
            onSelect={select}
            height={Math.min(560, 140 + data.tasks.length * 40)}
          />
          <StatusLegend />
          <TaskTable run={data} selected={task?.name} onSelect={select} />
        </TabsContent>
        <TabsContent value="timeline">
          <GanttView run={data} selected={task?.name} onSelect={select} />
        </TabsContent>
        <TabsContent value="data" className="grid gap-4 lg:grid-cols-2">
          <JsonBlock label="Input" value={data.input} />
          <JsonBlock label="Output" value={data.output} empty="No output yet: it is set when the run succeeds." />
          <JsonBlock label="Metadata" value={Object.keys(data.metadata ?? {}).length ? data.metadata : null} empty="No metadata." />
        </TabsContent>
      </Tabs>
      {task && tab !== 'data' ? (
        <div className="mt-4">
          <TaskPanel runId={data.id} task={task} actions={<ReplayFromHere run={data} task={task.name} status={task.status} />} />
        </div>
      ) : null}
    </>
  )
}

function BackLink() {
  return (
    <Button asChild variant="ghost" size="sm" className="mb-3 -ml-2">
      <Link to="/runs"><ArrowLeftIcon /> Runs</Link>
    </Button>
  )
}

/** A node's second line: how long it ran, or why it has not. */
function nodeDetail(task: Run['tasks'][number]): string | undefined {
  if (task.started_at && task.status !== 'pending') return formatDuration(durationBetween(task.started_at, task.finished_at))
  if (task.status === 'pending' && task.durable?.length) return 'suspended'
  if (task.attempt > 1) return `attempt ${task.attempt}`
  return undefined
}

function failedOrFirst(run: Run) {
  return run.tasks.find((t) => t.status === 'failed') ?? run.tasks.find((t) => t.status === 'running') ?? run.tasks[0]
}

function summarise(run: Run): string {
  const counts = new Map<string, number>()
  for (const t of run.tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1)
  return [...counts].map(([status, n]) => `${n} ${status}`).join(' · ')
}

function TaskTable({ run, selected, onSelect }: { run: Run; selected?: string; onSelect: (task: string) => void }) {
  return (
    <Table aria-label="Tasks">
      <TableHeader>
        <TableRow>
          <TableHead>Task</TableHead>
          <TableHead>Status</TableHead>
          <TableHead>Attempt</TableHead>
          <TableHead>Started</TableHead>
          <TableHead>Duration</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {run.tasks.map((t) => (
          <TableRow key={t.name} data-state={t.name === selected ? 'selected' : undefined}>
            <TableCell>
              <button type="button" onClick={() => onSelect(t.name)}
                className={cn('cursor-pointer rounded font-medium hover:underline focus-visible:ring-2 focus-visible:ring-ring', t.name === selected && 'text-primary')}
                aria-current={t.name === selected ? 'true' : undefined}>
                {t.name}
              </button>
            </TableCell>
            <TableCell><StatusBadge status={t.status} /></TableCell>
            <TableCell className="tabular-nums">{t.attempt}</TableCell>
            <TableCell className="whitespace-nowrap">{formatDateTime(t.started_at)}</TableCell>
            <TableCell className="tabular-nums">{formatDuration(durationBetween(t.started_at, t.finished_at))}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  )
}
