import { PencilIcon, Trash2Icon } from 'lucide-react'
import type { RateLimit } from '@/api/limits'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatRelative } from '@/lib/format'
import { usedShare } from './rate-limit-draft'
import { UsageBar } from './usage-bar'

const n = (value: number) => value.toLocaleString('en-US')

/** Rate limits with what is used of each now; edit and remove for those who may manage. */
export function RateLimitsTable({
  limits,
  manage,
  onEdit,
  onRemove,
}: {
  limits: readonly RateLimit[]
  manage: boolean
  onEdit: (limit: RateLimit) => void
  onRemove: (limit: RateLimit) => void
}) {
  return (
    <Table aria-label="Rate limits">
      <TableHeader>
        <TableRow>
          <TableHead>Key</TableHead>
          <TableHead>Limit</TableHead>
          <TableHead>Strategy</TableHead>
          <TableHead>In use now</TableHead>
          <TableHead>Updated</TableHead>
          {manage ? <TableHead className="w-24"><span className="sr-only">Actions</span></TableHead> : null}
        </TableRow>
      </TableHeader>
      <TableBody>
        {limits.map((limit) => {
          const share = usedShare(limit)
          return (
            <TableRow key={limit.key} data-testid="rate-limit-row">
              <TableCell>
                <div className="flex items-center gap-2">
                  <span className="font-mono text-xs font-medium">{limit.key}</span>
                  <Badge variant={limit.source === 'api' ? 'outline' : 'muted'}
                    title={limit.source === 'api' ? 'Set through the API' : 'Created by the first task that used it'}>
                    {limit.source === 'api' ? 'static' : 'dynamic'}
                  </Badge>
                </div>
              </TableCell>
              <TableCell className="whitespace-nowrap tabular-nums">
                {limit.limit === null ? <span className="text-muted-foreground">not set</span> : `${n(limit.limit)} / ${limit.window}`}
              </TableCell>
              <TableCell className="text-muted-foreground">{limit.strategy}</TableCell>
              <TableCell>
                {limit.usage ? (
                  <div className="flex items-center gap-3">
                    <UsageBar share={share} label={`${limit.key} usage`} />
                    <span className="whitespace-nowrap text-xs tabular-nums text-muted-foreground">
                      {n(limit.usage.used)} used · {n(limit.usage.remaining)} left
                    </span>
                  </div>
                ) : (
                  <span className="text-xs text-muted-foreground">unused</span>
                )}
              </TableCell>
              <TableCell className="whitespace-nowrap text-muted-foreground">{formatRelative(limit.updated_at)}</TableCell>
              {manage ? (
                <TableCell>
                  <div className="flex justify-end gap-1">
                    <Button size="icon-sm" variant="ghost" aria-label={`Edit ${limit.key}`} onClick={() => onEdit(limit)}>
                      <PencilIcon />
                    </Button>
                    <Button size="icon-sm" variant="ghost" aria-label={`Remove ${limit.key}`} onClick={() => onRemove(limit)}>
                      <Trash2Icon />
                    </Button>
                  </div>
                </TableCell>
              ) : null}
            </TableRow>
          )
        })}
      </TableBody>
    </Table>
  )
}
