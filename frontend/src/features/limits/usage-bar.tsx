import { cn } from '@/lib/utils'
import { usageTone } from './rate-limit-draft'

const TONE = { ok: 'bg-success', warn: 'bg-warning', full: 'bg-destructive' } as const

/** A horizontal meter of how much is used; the numbers sit next to it for screen readers. */
export function UsageBar({ share, label }: { share: number | null; label: string }) {
  const tone = usageTone(share)
  return (
    <div className="flex items-center gap-2">
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={share === null ? undefined : Math.round(share * 100)}
        className="h-2 w-28 overflow-hidden rounded-full bg-muted"
      >
        {share === null ? null : (
          <div data-tone={tone} className={cn('h-full rounded-full', TONE[tone])} style={{ width: `${Math.max(share * 100, share > 0 ? 4 : 0)}%` }} />
        )}
      </div>
    </div>
  )
}
