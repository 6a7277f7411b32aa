import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { PlayCircleIcon } from 'lucide-react'
import { lazy, Suspense } from 'react'
import { runCountsQuery } from '@/api/runs'
import { type Overview, overviewStatsQuery, type StatsWindow, WINDOWS } from '@/api/stats'
import { workersQuery } from '@/api/workers'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Button } from '@/components/ui/button'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card'
import { EmptyState } from '@/components/ui/empty-state'
import { Label, NativeSelect } from '@/components/ui/input'
import { Skeleton } from '@/components/ui/skeleton'
import { formatDuration } from '@/lib/format'
import { formatRate } from './buckets'
import { WorkflowStatsTable } from './workflow-stats-table'

// Recharts is the heaviest dependency: the numbers render first, the chart when it has loaded.
const OverviewCharts = lazy(() => import('./overview-charts').then((m) => ({ default: m.OverviewCharts })))

const route = getRouteApi('/app/overview')

const seconds = (value: number | null | undefined) => (value == null ? '—' : formatDuration(value * 1000))

/**
 * How the tenant is doing: figures the server computes over a window (runs by status over time,
 * failure rate, p50/p95 queue latency and duration, per workflow), plus workers and what runs now.
 */
export function OverviewPage() {
  const { window = '1h' } = route.useSearch()
  const navigate = route.useNavigate()
  const stats = useQuery(overviewStatsQuery(window))
  const now = useQuery(runCountsQuery({}))
  const workers = useQuery(workersQuery)
  const active = workers.data?.items.filter((w) => w.status === 'active') ?? []
  const slots = active.reduce((n, w) => n + w.slots, 0)
  const busy = active.reduce((n, w) => n + w.running, 0)
  const totals = stats.data?.totals
  const counts = now.data?.counts
  const finished = totals ? totals.succeeded + totals.failed + totals.cancelled : 0

  return (
    <>
      <PageHeader
        title="Overview"
        description="How this tenant is doing: figures computed by the server over the window you pick."
        actions={
          <div className="flex items-center gap-2">
            <Label htmlFor="overview-window">Window</Label>
            <NativeSelect id="overview-window" className="w-44" value={window}
              onChange={(e) => void navigate({ search: { window: e.target.value as StatsWindow } })}>
              {(Object.keys(WINDOWS) as StatsWindow[]).map((w) => <option key={w} value={w}>{WINDOWS[w]}</option>)}
            </NativeSelect>
          </div>
        }
      />
      <div className="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-busy={stats.isFetching}>
        <Stat title="Workers online" value={workers.data ? String(active.length) : undefined}
          detail={workers.data ? `${busy} of ${slots} slots busy` : undefined} to="/workers" />
        <Stat title="Running now" value={counts ? String((counts.running ?? 0) + (counts.queued ?? 0)) : undefined}
          detail={counts ? `${counts.queued ?? 0} queued, ${counts.pending ?? 0} pending` : undefined}
          to="/runs" search={{ status: 'queued,running' }} />
        <Stat title="Runs" value={totals ? totals.runs.toLocaleString('en-US') : undefined}
          detail={totals ? `created in the ${WINDOWS[window].toLowerCase()}` : undefined} to="/runs" />
        <Stat title="Failure rate" value={totals ? formatRate(totals.failure_rate) : undefined}
          detail={totals ? `${totals.failed} of ${finished} finished runs` : undefined}
          to="/runs" search={{ status: 'failed' }} />
        <Stat title="Queue latency" value={totals ? `p50 ${seconds(totals.queue_p50)}` : undefined}
          detail={totals ? `p95 ${seconds(totals.queue_p95)} · queued → started` : undefined} />
        <Stat title="Run duration" value={totals ? `p50 ${seconds(totals.duration_p50)}` : undefined}
          detail={totals ? `p95 ${seconds(totals.duration_p95)} · started → finished` : undefined} />
      </div>
      <OverviewBody stats={stats.data} error={stats.error} onRetry={() => void stats.refetch()} window={window} />
    </>
  )
}

function OverviewBody({ stats, error, onRetry, window }: { stats: Overview | undefined; error: Error | null; onRetry: () => void; window: StatsWindow }) {
  if (error) return <ErrorAlert error={error} title="Could not load the overview" onRetry={onRetry} />
  if (!stats) return <Skeleton className="h-80" role="status" aria-label="Loading charts" />
  if (stats.totals.runs === 0) {
    return (
      <EmptyState icon={PlayCircleIcon} title={`No runs in the ${WINDOWS[window].toLowerCase()}`}
        action={
          <>
            <Button asChild><Link to="/runs">Trigger a run</Link></Button>
            <Button asChild variant="outline"><Link to="/onboarding">Set up a worker</Link></Button>
          </>
        }>
        Charts fill in as workflows run. Pick a longer window above, or start a worker and trigger a run.
      </EmptyState>
    )
  }
  return (
    <div className="grid gap-4">
      <Suspense fallback={<Skeleton className="h-80" role="status" aria-label="Loading charts" />}>
        <OverviewCharts stats={stats} />
      </Suspense>
      <WorkflowStatsTable workflows={stats.workflows} />
    </div>
  )
}

function Stat({ title, value, detail, to, search }: { title: string; value?: string; detail?: string; to?: '/workers' | '/runs'; search?: { status: string } }) {
  const card = (
    <Card className={to ? 'h-full transition-colors hover:bg-accent/40' : 'h-full'}>
      <CardHeader className="pb-1">
        <CardDescription>{title}</CardDescription>
      </CardHeader>
      <CardContent>
        {value === undefined ? <Skeleton className="h-8 w-24" /> : <p className="text-2xl font-semibold tabular-nums">{value}</p>}
        {detail ? <p className="mt-1 text-xs text-muted-foreground">{detail}</p> : null}
      </CardContent>
    </Card>
  )
  if (!to) return card
  return (
    <Link to={to} search={search} className="rounded-xl focus-visible:ring-2 focus-visible:ring-ring">
      {card}
    </Link>
  )
}
