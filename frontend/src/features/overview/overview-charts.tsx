import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { RunSummary } from '@/api/runs'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
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

const TOOLTIP_STYLE = { background: 'var(--popover)', border: '1px solid var(--border)', borderRadius: 8, color: 'var(--popover-foreground)' }

/** The overview's two charts (a separate chunk: Recharts is large). */
export function OverviewCharts({ items }: { items: RunSummary[] }) {
  const counts = countByStatus(items)
  const { width, buckets } = bucketRuns(items)
  return (
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
                contentStyle={TOOLTIP_STYLE}
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
              <Tooltip contentStyle={TOOLTIP_STYLE}
                cursor={{ fill: 'var(--accent)' }} />
              <Bar dataKey="runs" isAnimationActive={false} shape={(props: unknown) => <StatusBar {...(props as StatusBarProps)} />} />
            </BarChart>
          </ResponsiveContainer>
        </CardContent>
      </Card>
    </div>
  )
}

type StatusBarProps = { x: number; y: number; width: number; height: number; payload: { status: RunStatus } }
function StatusBar({ x, y, width, height, payload }: StatusBarProps) {
  return <rect x={x} y={y} width={width} height={height} rx={3} fill={COLORS[payload.status]} />
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
