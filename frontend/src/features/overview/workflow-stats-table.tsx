import { Link } from '@tanstack/react-router'
import type { WorkflowStats } from '@/api/stats'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatDuration } from '@/lib/format'
import { formatRate } from './buckets'

const seconds = (value: number | null | undefined) => (value == null ? '—' : formatDuration(value * 1000))

/** The window's figures per workflow, busiest first. */
export function WorkflowStatsTable({ workflows }: { workflows: readonly WorkflowStats[] }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>Per workflow</CardTitle>
        <CardDescription>Duration is a run's start to its end; queue latency a task's wait from queued to started.</CardDescription>
      </CardHeader>
      <CardContent>
        <Table aria-label="Workflow statistics">
          <TableHeader>
            <TableRow>
              <TableHead>Workflow</TableHead>
              <TableHead className="text-right">Runs</TableHead>
              <TableHead className="text-right">Failed</TableHead>
              <TableHead className="text-right">Failure rate</TableHead>
              <TableHead className="text-right">Duration p50 / p95</TableHead>
              <TableHead className="text-right">Queue p50 / p95</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {workflows.map((w) => (
              <TableRow key={w.workflow} data-testid="workflow-stats-row">
                <TableCell className="font-medium">
                  <Link to="/runs" search={{ workflow: w.workflow ?? undefined }} className="text-primary hover:underline">{w.workflow}</Link>
                </TableCell>
                <TableCell className="text-right tabular-nums">{w.runs.toLocaleString('en-US')}</TableCell>
                <TableCell className="text-right tabular-nums">{w.failed.toLocaleString('en-US')}</TableCell>
                <TableCell className="text-right tabular-nums">{formatRate(w.failure_rate)}</TableCell>
                <TableCell className="text-right tabular-nums">{seconds(w.duration_p50)} / {seconds(w.duration_p95)}</TableCell>
                <TableCell className="text-right tabular-nums">{seconds(w.queue_p50)} / {seconds(w.queue_p95)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  )
}
