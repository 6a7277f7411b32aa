import { useQuery } from '@tanstack/react-query'
import { type TaskState, taskLogsQuery } from '@/api/runs'
import { ErrorAlert } from '@/components/error-alert'
import { Skeleton } from '@/components/ui/skeleton'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { durationBetween, formatDateTime, formatDuration } from '@/lib/format'
import { cn } from '@/lib/utils'
import { DurableLog } from './durable-log'
import { ErrorBlock, JsonBlock } from './json-block'
import { StatusBadge } from './status'
import { shortId } from '@/lib/ids'

const LEVEL: Record<string, string> = {
  debug: 'text-muted-foreground',
  info: '',
  warning: 'text-warning',
  error: 'text-destructive',
}

/** Everything about one task of a run: state, output or error, attempts, logs. */
export function TaskPanel({ runId, task, actions }: { runId: string; task: TaskState; actions?: React.ReactNode }) {
  const current = task.attempts.find((a) => a.attempt === task.attempt)
  return (
    <section className="grid gap-4 rounded-lg border bg-card p-4" aria-labelledby="task-heading">
      <header className="flex flex-wrap items-center gap-2">
        <h2 id="task-heading" className="text-lg font-semibold">{task.name}</h2>
        <StatusBadge status={task.status} />
        <span className="text-sm text-muted-foreground">attempt {task.attempt}</span>
        {actions ? <div className="ml-auto">{actions}</div> : null}
      </header>
      <dl className="grid grid-cols-2 gap-x-6 gap-y-2 text-sm sm:grid-cols-4">
        <Item label="Queued">{formatDateTime(task.queued_at)}</Item>
        <Item label="Started">{formatDateTime(task.started_at)}</Item>
        <Item label="Finished">{formatDateTime(task.finished_at)}</Item>
        <Item label="Duration">{formatDuration(durationBetween(task.started_at, task.finished_at))}</Item>
        {task.parents.length ? <Item label="After">{task.parents.join(', ')}</Item> : null}
        {task.worker_id ? <Item label="Worker"><code className="font-mono text-xs">{shortId(task.worker_id)}</code></Item> : null}
        {task.waiting_for ? <Item label="Waiting for">{task.waiting_for}</Item> : null}
      </dl>
      {task.error ? <ErrorBlock error={task.error} traceback={current?.traceback} /> : null}
      {task.status === 'skipped' ? (
        <p className="text-sm text-muted-foreground" data-testid="task-skipped">
          Skipped: its conditions ruled it out, so it finished without running.
        </p>
      ) : null}
      <DurableLog task={task} />
      <Tabs defaultValue="output">
        <TabsList>
          <TabsTrigger value="output">Output</TabsTrigger>
          <TabsTrigger value="logs">Logs</TabsTrigger>
          <TabsTrigger value="attempts">Attempts ({task.attempts.length})</TabsTrigger>
        </TabsList>
        <TabsContent value="output">
          <JsonBlock label="Output" value={task.output}
            empty={task.status === 'succeeded' ? 'The task returned nothing.' : task.status === 'skipped' ? 'A skipped task has no output.' : 'No output yet.'} />
        </TabsContent>
        <TabsContent value="logs">
          <TaskLogs runId={runId} task={task.name} live={task.status === 'running' || task.status === 'queued'} />
        </TabsContent>
        <TabsContent value="attempts">
          {task.attempts.length === 0 ? (
            <p className="text-sm text-muted-foreground">No finished attempt yet.</p>
          ) : (
            <ol className="grid gap-3">
              {task.attempts.map((attempt) => (
                <li key={attempt.attempt} className="grid gap-2 rounded-md border p-3">
                  <div className="flex flex-wrap items-center gap-2 text-sm">
                    <span className="font-medium">Attempt {attempt.attempt}</span>
                    <StatusBadge status={attempt.status} />
                    <span className="text-muted-foreground">
                      {formatDateTime(attempt.started_at)} · {formatDuration(durationBetween(attempt.started_at, attempt.finished_at))}
                    </span>
                  </div>
                  {attempt.error ? <ErrorBlock error={attempt.error} traceback={attempt.traceback} /> : null}
                </li>
              ))}
            </ol>
          )}
        </TabsContent>
      </Tabs>
    </section>
  )
}

function Item({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid gap-0.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="truncate">{children}</dd>
    </div>
  )
}

function TaskLogs({ runId, task, live }: { runId: string; task: string; live: boolean }) {
  const logs = useQuery(taskLogsQuery(runId, task, live))
  if (logs.isPending) return <Skeleton className="h-32" />
  if (logs.isError) return <ErrorAlert error={logs.error} title="Could not load logs" onRetry={() => void logs.refetch()} />
  if (logs.data.items.length === 0) {
    return (
      <p className="text-sm text-muted-foreground">
        No log lines{live ? ' yet' : ''}. Lines the task writes through <code className="font-mono">ctx.log()</code> show up here.
      </p>
    )
  }
  return (
    <div className="max-h-96 overflow-auto rounded-md border bg-muted/40 p-3 font-mono text-xs leading-relaxed" role="log" aria-live={live ? 'polite' : 'off'}>
      {logs.data.items.map((line, i) => (
        <div key={i} className={cn('whitespace-pre-wrap', LEVEL[line.level])}>
          <span className="text-muted-foreground">{new Date(line.at).toLocaleTimeString()} </span>
          <span className="text-muted-foreground">#{line.attempt} </span>
          <span className="uppercase">{line.level.slice(0, 4)} </span>
          {line.message}
        </div>
      ))}
      {logs.data.next_cursor ? <p className="mt-2 text-muted-foreground">Showing the first 100 lines.</p> : null}
    </div>
  )
}
