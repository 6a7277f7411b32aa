import type { ConcurrencyUsage } from '@/api/limits'
import { Badge } from '@/components/ui/badge'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { UsageBar } from './usage-bar'

/** `etl#0=acme` → `{ group: 'etl', value: 'acme' }`; the limit index only tells limits apart. */
export function splitKey(key: string): { group: string; value: string } {
  const eq = key.indexOf('=')
  const head = eq < 0 ? key : key.slice(0, eq)
  const hash = head.lastIndexOf('#')
  return { group: hash < 0 ? head : head.slice(0, hash), value: eq < 0 ? '' : key.slice(eq + 1) }
}

/** Concurrency keys with slots held and what waits for one, busiest first. */
export function ConcurrencyTable({ keys }: { keys: readonly ConcurrencyUsage[] }) {
  return (
    <Table aria-label="Concurrency keys">
      <TableHeader>
        <TableRow>
          <TableHead>Workflow / task</TableHead>
          <TableHead>Key value</TableHead>
          <TableHead>Strategy</TableHead>
          <TableHead>Running</TableHead>
          <TableHead className="text-right">Queued</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {keys.map((item) => {
          const { group, value } = splitKey(item.key)
          const share = item.max_runs ? Math.min(1, item.running / item.max_runs) : null
          return (
            <TableRow key={item.key} data-testid="concurrency-row" title={item.key}>
              <TableCell>
                <div className="flex items-center gap-2">
                  <span className="font-medium">{group}</span>
                  <Badge variant="muted">{item.scope === 'run' ? 'per run' : 'per task'}</Badge>
                </div>
              </TableCell>
              <TableCell className="font-mono text-xs">{value || <span className="text-muted-foreground">(one key)</span>}</TableCell>
              <TableCell className="text-muted-foreground">{item.strategy}</TableCell>
              <TableCell>
                <div className="flex items-center gap-3">
                  {share === null ? null : <UsageBar share={share} label={`${item.key} slots in use`} />}
                  <span className="whitespace-nowrap text-xs tabular-nums">
                    {item.running}{item.max_runs ? ` of ${item.max_runs}` : ''}
                  </span>
                </div>
              </TableCell>
              <TableCell className="text-right tabular-nums">{item.queued}</TableCell>
            </TableRow>
          )
        })}
      </TableBody>
    </Table>
  )
}
