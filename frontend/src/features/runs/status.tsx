import { CheckCircle2Icon, CircleDashedIcon, CircleIcon, ClockIcon, LoaderCircleIcon, XCircleIcon, BanIcon } from 'lucide-react'
import { Badge } from '@/components/ui/badge'
import { cn } from '@/lib/utils'

type Variant = 'muted' | 'info' | 'warning' | 'success' | 'destructive' | 'secondary'

const STYLE: Record<string, { variant: Variant; icon: typeof CircleIcon; node: string }> = {
  pending: { variant: 'muted', icon: CircleDashedIcon, node: 'border-border bg-muted/40' },
  queued: { variant: 'secondary', icon: ClockIcon, node: 'border-info/50 bg-info/10' },
  running: { variant: 'info', icon: LoaderCircleIcon, node: 'border-info bg-info/15 ring-2 ring-info/30' },
  succeeded: { variant: 'success', icon: CheckCircle2Icon, node: 'border-success bg-success/15' },
  failed: { variant: 'destructive', icon: XCircleIcon, node: 'border-destructive bg-destructive/15' },
  cancelled: { variant: 'warning', icon: BanIcon, node: 'border-warning bg-warning/15' },
}

const FALLBACK = { variant: 'muted' as const, icon: CircleIcon, node: 'border-border bg-card' }

export function statusStyle(status: string | undefined) {
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
