import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { Overview } from '@/api/stats'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import type { RunStatus } from '@/features/runs/filters'
import { toChartRows } from './buckets'

const COLORS: Record<RunStatus, string> = {
  pending: 'var(--muted-foreground)',
  queued: 'var(--input)',
  running: 'var(--info)',
  succeeded: 'var(--success)',
  failed: 'var(--destructive)',
  cancelled: 'var(--warning)',
}

const TOOLTIP_STYLE = { background: 'var(--popover)', border: '1px solid var(--border)', borderRadius: 8, color: 'var(--popover-foreground)' }

/** Runs created per bucket of the window, stacked by status (a separate chunk: Recharts is large). */
export function OverviewCharts({ stats }: { stats: Overview }) {
  const { rows, statuses } = toChartRows(stats.buckets)
  const width = stats.bucket_seconds * 1000
  return (
    <Card>
      <CardHeader>
        <CardTitle>Runs over time</CardTitle>
        <CardDescription>Runs created per {formatWidth(width)}, by their status now.</CardDescription>
      </CardHeader>
      <CardContent className="h-72">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ left: -20, right: 8 }}>
            <CartesianGrid vertical={false} stroke="var(--border)" />
            <XAxis dataKey="start" tickFormatter={(t: number) => formatTick(t, width)} stroke="var(--muted-foreground)" fontSize={12} minTickGap={24} />
            <YAxis allowDecimals={false} stroke="var(--muted-foreground)" fontSize={12} />
            <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleString()} contentStyle={TOOLTIP_STYLE} cursor={{ fill: 'var(--accent)' }} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {statuses.map((status) => (
              <Bar key={status} dataKey={status} stackId="runs" fill={COLORS[status]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </CardContent>
    </Card>
  )
}

function formatWidth(width: number): string {
  if (width < 3_600_000) return `${width / 60_000} min`
  return `${width / 3_600_000} h`
}

function formatTick(time: number, width: number): string {
  const date = new Date(time)
  return width >= 3_600_000
    ? date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' })
    : date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}
