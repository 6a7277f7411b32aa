import type { Run } from '@/api/runs'
import { formatDuration } from '@/lib/format'
import { cn } from '@/lib/utils'
import { buildGantt, placement } from './gantt'

const BAR: Record<string, string> = {
  queued: 'bg-muted-foreground/25',
  running: 'bg-info animate-pulse',
  succeeded: 'bg-success',
  failed: 'bg-destructive',
  cancelled: 'bg-warning',
  lost: 'bg-warning',
  skipped: 'bg-skipped/40',
}

export function GanttView({ run, onSelect, selected }: { run: Run; onSelect?: (task: string) => void; selected?: string }) {
  const gantt = buildGantt(run)
  const span = gantt.end - gantt.start
  const ticks = [0, 0.25, 0.5, 0.75, 1]
  return (
    <div className="rounded-lg border bg-card p-4" role="figure" aria-label="Timeline of task attempts">
      <div className="grid grid-cols-[10rem_1fr] gap-x-3">
        <div />
        <div className="relative mb-2 h-4 text-xs text-muted-foreground">
          {ticks.map((t) => (
            <span key={t} className="absolute -translate-x-1/2 whitespace-nowrap tabular-nums first:translate-x-0 last:-translate-x-full"
              style={{ left: `${t * 100}%` }}>
              {formatDuration(span * t)}
            </span>
          ))}
        </div>
        {gantt.rows.map((row) => (
          <div key={row.task} className="contents">
            <button
              type="button"
              onClick={() => onSelect?.(row.task)}
              className={cn(
                'truncate rounded px-1 py-1.5 text-left text-sm hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring',
                selected === row.task && 'font-semibold text-primary',
              )}
            >
              {row.task}
            </button>
            <div className="relative my-1 h-6 rounded bg-muted/40">
              {row.segments.map((segment, i) => {
                const { left, width } = placement(gantt, segment)
                const label = segment.kind === 'queued'
                  ? `queued ${formatDuration(segment.end - segment.start)}`
                  : `attempt ${segment.attempt}: ${segment.status}, ${formatDuration(segment.end - segment.start)}`
                return (
                  <div
                    key={i}
                    title={label}
                    aria-label={`${row.task} ${label}`}
                    className={cn('absolute top-0.5 bottom-0.5 rounded-sm', BAR[segment.status] ?? 'bg-muted-foreground/40')}
                    style={{ left: `${left}%`, width: `${width}%` }}
                  />
                )
              })}
              {row.segments.length === 0 ? (
                <span className="absolute inset-0 flex items-center px-2 text-xs text-muted-foreground">
                  {row.status === 'skipped' ? 'skipped' : 'not started'}
                </span>
              ) : null}
            </div>
          </div>
        ))}
      </div>
      <div className="mt-3 flex flex-wrap gap-3 text-xs text-muted-foreground">
        {['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'].map((s) => (
          <span key={s} className="flex items-center gap-1.5">
            <span className={cn('inline-block size-2.5 rounded-sm', BAR[s])} /> {s}
          </span>
        ))}
      </div>
    </div>
  )
}
