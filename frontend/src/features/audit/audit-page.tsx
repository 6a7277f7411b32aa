import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { ScrollTextIcon } from 'lucide-react'
import { useEffect, useState } from 'react'
import { auditQuery, type AuditEntry } from '@/api/audit'
import { can, meQuery } from '@/api/auth'
import { membersQuery } from '@/api/members'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Pager, useCursorPager } from '@/components/pager'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { Input } from '@/components/ui/input'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatDateTime, formatRelative } from '@/lib/format'
import { shortId } from '@/lib/ids'

const route = getRouteApi('/app/settings/audit')

export function AuditPage() {
  const { data: me } = useQuery(meQuery)
  const { action, cursor } = route.useSearch()
  const navigate = route.useNavigate()
  const allowed = can(me, 'manage')
  const entries = useQuery({ ...auditQuery(action, cursor), enabled: allowed })
  // Actor ids are user ids: show their e-mail when they are (still) members.
  const members = useQuery({ ...membersQuery, enabled: allowed })
  const emails = new Map(members.data?.items.map((m) => [m.user_id, m.email]))
  const [draft, setDraft] = useState(action ?? '')
  useEffect(() => setDraft(action ?? ''), [action])

  const pager = useCursorPager({
    cursor,
    resetKey: action ?? '',
    setCursor: (next) => void navigate({ search: (prev) => ({ ...prev, cursor: next }) }),
  })

  return (
    <>
      <PageHeader title="Audit log" description="Security-relevant actions in this tenant, newest first." />
      {!allowed ? (
        <EmptyState icon={ScrollTextIcon} title="Only owners and admins can read the audit log">
          Ask an owner of this tenant if you need to know who did what.
        </EmptyState>
      ) : (
        <>
          <form
            className="mb-4 flex flex-wrap items-center gap-2"
            role="search"
            onSubmit={(event) => {
              event.preventDefault()
              void navigate({ search: { action: draft.trim() || undefined, cursor: undefined } })
            }}
          >
            <label htmlFor="audit-action" className="sr-only">Action</label>
            <Input id="audit-action" className="w-72" placeholder="Filter by action, e.g. api_key.created"
              value={draft} onChange={(e) => setDraft(e.target.value)} />
            <Button type="submit" variant="secondary">Filter</Button>
            {action ? (
              <Button variant="ghost" onClick={() => void navigate({ search: {} })}>Clear</Button>
            ) : null}
          </form>
          {entries.isPending ? (
            <TableSkeleton rows={8} columns={5} />
          ) : entries.isError ? (
            <ErrorAlert error={entries.error} title="Could not load the audit log" onRetry={() => void entries.refetch()} />
          ) : entries.data.items.length === 0 ? (
            <EmptyState icon={ScrollTextIcon} title={action ? `No “${action}” entries` : 'Nothing recorded yet'}>
              {action ? 'Try another action, or clear the filter.' : 'Creating keys, inviting people and changing roles show up here.'}
            </EmptyState>
          ) : (
            <Table aria-label="Audit log" aria-busy={entries.isFetching}>
              <TableHeader>
                <TableRow>
                  <TableHead>When</TableHead>
                  <TableHead>Actor</TableHead>
                  <TableHead>Action</TableHead>
                  <TableHead>Target</TableHead>
                  <TableHead>IP</TableHead>
                  <TableHead>Details</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {entries.data.items.map((entry) => (
                  <AuditRow key={entry.id} entry={entry} emails={emails}
                    onAction={(a) => void navigate({ search: { action: a, cursor: undefined } })} />
                ))}
              </TableBody>
            </Table>
          )}
          <Pager
            page={pager.page}
            hasPrevious={pager.hasPrevious}
            nextCursor={entries.data?.next_cursor}
            onPrevious={pager.previous}
            onNext={pager.next}
            busy={entries.isFetching}
          />
        </>
      )}
    </>
  )
}

function AuditRow({ entry, emails, onAction }: { entry: AuditEntry; emails: Map<string, string>; onAction: (action: string) => void }) {
  const actor =
    entry.actor_type === 'user' && entry.actor_id
      ? (emails.get(entry.actor_id) ?? `user ${shortId(entry.actor_id)}`)
      : entry.actor_type === 'api_key' && entry.actor_id
        ? `API key ${shortId(entry.actor_id)}`
        : entry.actor_type
  const details = Object.keys(entry.details).length ? JSON.stringify(entry.details) : ''
  return (
    <TableRow>
      <TableCell className="whitespace-nowrap" title={formatDateTime(entry.at)}>{formatRelative(entry.at)}</TableCell>
      <TableCell className="max-w-48 truncate">{actor}</TableCell>
      <TableCell>
        <button type="button" className="cursor-pointer rounded focus-visible:ring-2 focus-visible:ring-ring"
          title="Show only this action" onClick={() => onAction(entry.action)}>
          <Badge variant="outline" className="font-mono">{entry.action}</Badge>
        </button>
      </TableCell>
      <TableCell className="max-w-56 truncate text-muted-foreground">
        {entry.target_type ? `${entry.target_type} ${entry.target_id ? shortId(entry.target_id) : ''}` : '—'}
      </TableCell>
      <TableCell className="font-mono text-xs text-muted-foreground">{entry.ip ?? '—'}</TableCell>
      <TableCell className="max-w-72 truncate font-mono text-xs text-muted-foreground" title={details}>{details || '—'}</TableCell>
    </TableRow>
  )
}
