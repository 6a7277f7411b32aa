import {
  BanIcon,
  CheckCircle2Icon,
  CircleDashedIcon,
  CircleIcon,
  ClockIcon,
  LoaderCircleIcon,
  SkipForwardIcon,
  XCircleIcon,
} from 'lucide-react'
import { Badge } from '@/components/ui/badge'
import { cn } from '@/lib/utils'

type Variant = 'muted' | 'info' | 'warning' | 'success' | 'destructive' | 'secondary' | 'skipped'

interface StatusStyle {
  variant: Variant
  icon: typeof CircleIcon
  /** Classes of a DAG node in this status. */
  node: string
  /** Text colour of the status (icons, legends). */
  text: string
}

/**
 * Every status a run or task can be in, with its look. `skipped` is a task whose DAG condition
 * did not hold: it finished without running, so it is neither green nor red.
 */
const STYLE: Record<string, StatusStyle> = {
  pending: { variant: 'muted', icon: CircleDashedIcon, node: 'border-border bg-muted/40', text: 'text-muted-foreground' },
  queued: { variant: 'secondary', icon: ClockIcon, node: 'border-info/50 bg-info/10', text: 'text-info' },
  running: { variant: 'info', icon: LoaderCircleIcon, node: 'border-info bg-info/15 ring-2 ring-info/30', text: 'text-info' },
  succeeded: { variant: 'success', icon: CheckCircle2Icon, node: 'border-success bg-success/15', text: 'text-success' },
  failed: { variant: 'destructive', icon: XCircleIcon, node: 'border-destructive bg-destructive/15', text: 'text-destructive' },
  cancelled: { variant: 'warning', icon: BanIcon, node: 'border-warning bg-warning/15', text: 'text-warning' },
  skipped: { variant: 'skipped', icon: SkipForwardIcon, node: 'border-dashed border-skipped bg-skipped/10', text: 'text-skipped' },
}

/** Statuses in the order legends list them. */
export const LEGEND_STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const

const FALLBACK: StatusStyle = { variant: 'muted', icon: CircleIcon, node: 'border-border bg-card', text: 'text-muted-foreground' }

export function statusStyle(status: string | undefined): StatusStyle {
  return (status && STYLE[status]) || FALLBACK
}

export function StatusBadge({ status, className }: { status: string; className?: string }) {
  const style = statusStyle(status)
  return (
    <Badge variant={style.variant} className={className} data-status={status}>
      <style.icon className={cn('size-3', status === 'running' && 'animate-spin')} aria-hidden />
      {status}
    </Badge>
  )
}

/** A key to the status colours of a DAG or timeline. */
export function StatusLegend({ className }: { className?: string }) {
  return (
    <ul aria-label="Status colours" className={cn('flex flex-wrap gap-x-3 gap-y-1 text-xs text-muted-foreground', className)}>
      {LEGEND_STATUSES.map((status) => {
        const style = statusStyle(status)
        return (
          <li key={status} className="inline-flex items-center gap-1">
            <style.icon aria-hidden className={cn('size-3', style.text)} />
            {status}
          </li>
        )
      })}
    </ul>
  )
}
