import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { PlayCircleIcon } from 'lucide-react'
import { lazy, Suspense } from 'react'
import { latestRunsQuery } from '@/api/runs'
import { workersQuery } from '@/api/workers'
import { workflowsQuery } from '@/api/workflows'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Button } from '@/components/ui/button'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card'
import { EmptyState } from '@/components/ui/empty-state'
import { Skeleton } from '@/components/ui/skeleton'
import type { RunStatus } from '@/features/runs/filters'
import { countByStatus } from './buckets'

// Recharts is the heaviest dependency: the numbers render first, the charts when it has loaded.
const OverviewCharts = lazy(() => import('./overview-charts').then((m) => ({ default: m.OverviewCharts })))

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
        <Suspense fallback={<Skeleton className="h-80" />}>
          <OverviewCharts items={items} />
        </Suspense>
      )}
      <p className="mt-6 text-xs text-muted-foreground">
        Throughput and latency over longer periods need the server’s metrics API, which does not exist yet.
      </p>
    </>
  )
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
