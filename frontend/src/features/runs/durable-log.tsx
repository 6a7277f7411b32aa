import { BedIcon, CheckIcon, FootprintsIcon, GitForkIcon, HourglassIcon, RadioTowerIcon } from 'lucide-react'
import type { TaskState } from '@/api/runs'
import { Badge } from '@/components/ui/badge'
import { cn } from '@/lib/utils'

/** One durable call as `GET /api/v1/runs/{id}` lists it (docs/durable.md). */
export interface DurableCall {
  seq: number
  kind: string
  name: string | null
  status: string
}

const KIND = {
  step: { icon: FootprintsIcon, label: 'step' },
  sleep: { icon: BedIcon, label: 'sleep' },
  wait: { icon: RadioTowerIcon, label: 'wait' },
  spawn: { icon: GitForkIcon, label: 'spawn' },
} as const

/** The task's durable calls, oldest first; the server sends them loosely typed. */
export function durableCalls(task: Pick<TaskState, 'durable'>): DurableCall[] {
  return (task.durable ?? [])
    .map((raw) => raw as Partial<DurableCall>)
    .filter((c): c is DurableCall => typeof c.seq === 'number' && typeof c.kind === 'string')
    .sort((a, b) => a.seq - b.seq)
}

/**
 * A durable task's log: the steps it has done (replayed, not re-run, after a restart), the
 * sleeps and waits it went through, and — while it is suspended — what it waits for now.
 */
export function DurableLog({ task }: { task: Pick<TaskState, 'durable' | 'status' | 'waiting_for'> }) {
  const calls = durableCalls(task)
  if (calls.length === 0) return null
  const waitingNow = task.status === 'pending' && task.waiting_for ? task.waiting_for : null
  return (
    <section aria-labelledby="durable-heading" className="grid gap-2">
      <h3 id="durable-heading" className="text-sm font-semibold">Durable log</h3>
      {waitingNow ? (
        <p className="flex items-start gap-2 rounded-md border border-info/40 bg-info/10 p-2 text-sm" data-testid="durable-waiting">
          <HourglassIcon className="mt-0.5 size-4 shrink-0 text-info" aria-hidden />
          <span><span className="font-medium">Suspended, waiting for </span>{waitingNow.replace(/^durable wait: /, '')}</span>
        </p>
      ) : null}
      <ol className="grid gap-1" aria-label="Durable calls">
        {calls.map((call) => {
          const kind = KIND[call.kind as keyof typeof KIND]
          const Icon = kind?.icon ?? FootprintsIcon
          const waiting = call.status === 'waiting'
          return (
            <li key={call.seq} data-testid="durable-call" data-status={call.status}
              className={cn('flex items-center gap-2 rounded-md px-2 py-1 text-sm', waiting ? 'bg-info/10' : 'bg-muted/40')}>
              <span className="w-6 text-right font-mono text-xs text-muted-foreground tabular-nums">{call.seq}</span>
              <Icon className="size-4 shrink-0 text-muted-foreground" aria-hidden />
              <Badge variant="outline" className="font-normal">{kind?.label ?? call.kind}</Badge>
              <span className="min-w-0 truncate font-mono text-xs">{call.name ?? '—'}</span>
              <span className={cn('ml-auto inline-flex items-center gap-1 text-xs', waiting ? 'text-info' : 'text-success')}>
                {waiting ? <HourglassIcon className="size-3" aria-hidden /> : <CheckIcon className="size-3" aria-hidden />}
                {waiting ? 'waiting' : 'done'}
              </span>
            </li>
          )
        })}
      </ol>
    </section>
  )
}
