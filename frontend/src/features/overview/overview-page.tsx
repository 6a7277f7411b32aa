import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { PlayCircleIcon } from 'lucide-react'
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { latestRunsQuery } from '@/api/runs'
import { workersQuery } from '@/api/workers'
import { workflowsQuery } from '@/api/workflows'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Button } from '@/components/ui/button'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import { EmptyState } from '@/components/ui/empty-state'
import { Skeleton } from '@/components/ui/skeleton'
import { RUN_STATUSES, type RunStatus } from '@/features/runs/filters'
import { bucketRuns, countByStatus } from './buckets'

const COLORS: Record<RunStatus, string> = {
  pending: 'var(--muted-foreground)',
  queued: 'var(--input)',
  running: 'var(--info)',
  succeeded: 'var(--success)',
  failed: 'var(--destructive)',
  cancelled: 'var(--warning)',
}

const SAMPLE = 100

/**
 * What the tenant looks like right now, from the APIs that exist: the latest runs (one page of
 * 100), workflows and workers. Full-history metrics (throughput, latency percentiles) need a
 * metrics endpoint; this page says so instead of guessing.
 */
export function OverviewPage() {
  const runs = useQuery(latestRunsQuery(SAMPLE))
  const workers = useQuery(workersQuery)
  const workflows = useQuery(workflowsQuery)
  const items = runs.data?.items ?? []
  const counts = countByStatus(items)
  const { width, buckets } = bucketRuns(items)
  const active = workers.data?.items.filter((w) => w.status === 'active') ?? []
  const slots = active.reduce((n, w) => n + w.slots, 0)
  const busy = active.reduce((n, w) => n + w.running, 0)
  const finished = counts.succeeded + counts.failed + counts.cancelled
  const failureRate = finished ? Math.round((counts.failed / finished) * 100) : null

  return (
    <>
      <PageHeader title="Overview" description={`How things look now, from the latest ${SAMPLE} runs, your workflows and workers.`} />
      <div className="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat title="Workers online" value={workers.data ? String(active.length) : undefined}
          detail={workers.data ? `${busy} of ${slots} slots busy` : undefined} to="/workers" />
        <Stat title="Workflows" value={workflows.data ? String(workflows.data.items.length) : undefined} to="/workflows" />
        <Stat title="Running now" value={runs.data ? String(counts.running + counts.queued) : undefined}
          detail={runs.data ? `${counts.queued} queued` : undefined} to="/runs" search={{ status: 'running' }} />
        <Stat title="Failure rate" value={runs.data ? (failureRate === null ? '—' : `${failureRate}%`) : undefined}
          detail={runs.data ? `${counts.failed} of ${finished} finished runs` : undefined} to="/runs" search={{ status: 'failed' }} />
      </div>
      {runs.isError ? (
        <ErrorAlert error={runs.error} title="Could not load runs" onRetry={() => void runs.refetch()} />
      ) : runs.isPending ? (
        <Skeleton className="h-80" />
      ) : items.length === 0 ? (
        <EmptyState icon={PlayCircleIcon} title="No runs yet"
          action={<Button asChild><Link to="/onboarding">Get started</Link></Button>}>
          Charts fill in once workflows run. Start a worker and trigger a run to see it here.
        </EmptyState>
      ) : (
        <div className="grid gap-4 lg:grid-cols-3">
          <Card className="lg:col-span-2">
            <CardHeader>
              <CardTitle>Runs over time</CardTitle>
              <CardDescription>Latest {items.length} runs by creation time, per {formatWidth(width)}, by status.</CardDescription>
            </CardHeader>
            <CardContent className="h-72">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={buckets} margin={{ left: -20, right: 8 }}>
                  <CartesianGrid vertical={false} stroke="var(--border)" />
                  <XAxis dataKey="start" tickFormatter={(t: number) => formatTick(t, width)} stroke="var(--muted-foreground)" fontSize={12} />
                  <YAxis allowDecimals={false} stroke="var(--muted-foreground)" fontSize={12} />
                  <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                    contentStyle={{ background: 'var(--popover)', border: '1px solid var(--border)', borderRadius: 8, color: 'var(--popover-foreground)' }}
                    cursor={{ fill: 'var(--accent)' }} />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  {RUN_STATUSES.filter((s) => counts[s] > 0).map((status) => (
                    <Bar key={status} dataKey={status} stackId="runs" fill={COLORS[status]} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>By status</CardTitle>
              <CardDescription>Latest {items.length} runs.</CardDescription>
            </CardHeader>
            <CardContent className="h-72">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={RUN_STATUSES.map((status) => ({ status, runs: counts[status] }))} layout="vertical" margin={{ left: 10, right: 16 }}>
                  <XAxis type="number" allowDecimals={false} stroke="var(--muted-foreground)" fontSize={12} />
                  <YAxis type="category" dataKey="status" stroke="var(--muted-foreground)" fontSize={12} width={72} />
                  <Tooltip contentStyle={{ background: 'var(--popover)', border: '1px solid var(--border)', borderRadius: 8, color: 'var(--popover-foreground)' }}
                    cursor={{ fill: 'var(--accent)' }} />
                  <Bar dataKey="runs" isAnimationActive={false} shape={(props: unknown) => <StatusBar {...(props as StatusBarProps)} />} />
                </BarChart>
              </ResponsiveContainer>
            </CardContent>
          </Card>
        </div>
      )}
      <p className="mt-6 text-xs text-muted-foreground">
        Throughput and latency over longer periods need the server’s metrics API, which does not exist yet.
      </p>
    </>
  )
}

type StatusBarProps = { x: number; y: number; width: number; height: number; payload: { status: RunStatus } }
function StatusBar({ x, y, width, height, payload }: StatusBarProps) {
  return <rect x={x} y={y} width={width} height={height} rx={3} fill={COLORS[payload.status]} />
}

function Stat({ title, value, detail, to, search }: { title: string; value?: string; detail?: string; to: '/workers' | '/workflows' | '/runs'; search?: { status: RunStatus } }) {
  return (
    <Link to={to} search={search} className="rounded-xl focus-visible:ring-2 focus-visible:ring-ring">
      <Card className="h-full transition-colors hover:bg-accent/40">
        <CardHeader className="pb-1">
          <CardDescription>{title}</CardDescription>
        </CardHeader>
        <CardContent>
          {value === undefined ? <Skeleton className="h-8 w-16" /> : <p className="text-3xl font-semibold tabular-nums">{value}</p>}
          {detail ? <p className="mt-1 text-xs text-muted-foreground">{detail}</p> : null}
        </CardContent>
      </Card>
    </Link>
  )
}

function formatWidth(width: number): string {
  if (width < 3_600_000) return `${width / 60_000} min`
  if (width < 86_400_000) return `${width / 3_600_000} h`
  return 'day'
}

function formatTick(time: number, width: number): string {
  const date = new Date(time)
  return width >= 86_400_000
    ? date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
    : date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}
