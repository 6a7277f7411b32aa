import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { SendIcon, ZapIcon } from 'lucide-react'
import { useEffect, useState } from 'react'
import { can, meQuery } from '@/api/auth'
import { eventsQuery, type KilnEvent, usePushEvent, webhooksQuery } from '@/api/triggers'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Pager, useCursorPager } from '@/components/pager'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '@/components/ui/dialog'
import { EmptyState } from '@/components/ui/empty-state'
import { Field, Input, Label, NativeSelect, Textarea } from '@/components/ui/input'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { toast } from '@/components/ui/toast'
import { parseJsonInput, parseJsonObject } from '@/features/runs/json'
import { StatusBadge } from '@/features/runs/status'
import { formatDateTime, formatRelative } from '@/lib/format'
import { shortId } from '@/lib/ids'

const route = getRouteApi('/app/events')

export function EventsPage() {
  const { data: me } = useQuery(meQuery)
  const search = route.useSearch()
  const navigate = route.useNavigate()
  const events = useQuery(eventsQuery(search))
  const webhooks = useQuery(webhooksQuery)
  const [key, setKey] = useState(search.key ?? '')
  useEffect(() => setKey(search.key ?? ''), [search.key])
  const pager = useCursorPager({
    cursor: search.cursor,
    resetKey: `${search.key}/${search.source}/${search.webhook}`,
    setCursor: (cursor) => void navigate({ search: (prev) => ({ ...prev, cursor }) }),
  })
  const filtered = Boolean(search.key || search.source || search.webhook)

  return (
    <>
      <PageHeader
        title="Events"
        description="Events pushed through the API or received by webhooks, and the runs they started (workflows subscribe with on_events)."
        actions={can(me, 'trigger') ? <PushEventDialog /> : null}
      />
      <div className="mb-4 flex flex-wrap items-end gap-3">
        <form className="grid gap-1.5" role="search"
          onSubmit={(e) => { e.preventDefault(); void navigate({ search: (prev) => ({ ...prev, key: key.trim() || undefined, cursor: undefined }) }) }}>
          <Label htmlFor="events-key">Key</Label>
          <Input id="events-key" className="w-64" placeholder="order:created" value={key} onChange={(e) => setKey(e.target.value)}
            onBlur={() => void navigate({ search: (prev) => ({ ...prev, key: key.trim() || undefined, cursor: undefined }) })} />
        </form>
        <div className="grid gap-1.5">
          <Label htmlFor="events-source">Source</Label>
          <NativeSelect id="events-source" className="w-40" value={search.source ?? ''}
            onChange={(e) => void navigate({ search: (prev) => ({ ...prev, source: (e.target.value || undefined) as 'api' | 'webhook' | undefined, cursor: undefined }) })}>
            <option value="">Any source</option>
            <option value="api">API</option>
            <option value="webhook">Webhook</option>
          </NativeSelect>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="events-webhook">Webhook</Label>
          <NativeSelect id="events-webhook" className="w-52" value={search.webhook ?? ''}
            onChange={(e) => void navigate({ search: (prev) => ({ ...prev, webhook: e.target.value || undefined, cursor: undefined }) })}>
            <option value="">Any webhook</option>
            {webhooks.data?.items.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
          </NativeSelect>
        </div>
        {filtered ? <Button variant="ghost" size="sm" onClick={() => void navigate({ search: {} })}>Clear filters</Button> : null}
      </div>
      {events.isPending ? (
        <TableSkeleton rows={8} columns={5} />
      ) : events.isError ? (
        <ErrorAlert error={events.error} title="Could not load events" onRetry={() => void events.refetch()} />
      ) : events.data.items.length === 0 ? (
        <EmptyState icon={ZapIcon} title={filtered ? 'No events match these filters' : 'No events yet'}>
          {filtered ? 'Try another key or source.' : 'Push one with kiln.events.push("order:created", {...}), a webhook, or the button above.'}
        </EmptyState>
      ) : (
        <Table aria-label="Events">
          <TableHeader>
            <TableRow>
              <TableHead>When</TableHead>
              <TableHead>Key</TableHead>
              <TableHead>Source</TableHead>
              <TableHead>Payload</TableHead>
              <TableHead>Runs started</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {events.data.items.map((event) => <EventRow key={event.id} event={event} />)}
          </TableBody>
        </Table>
      )}
      <Pager page={pager.page} hasPrevious={pager.hasPrevious} nextCursor={events.data?.next_cursor}
        onPrevious={pager.previous} onNext={pager.next} busy={events.isFetching && events.isPlaceholderData} />
    </>
  )
}

function EventRow({ event }: { event: KilnEvent }) {
  const payload = JSON.stringify(event.payload)
  return (
    <TableRow>
      <TableCell className="whitespace-nowrap align-top" title={formatDateTime(event.created_at)}>{formatRelative(event.created_at)}</TableCell>
      <TableCell className="align-top"><code className="font-mono text-xs">{event.key}</code></TableCell>
      <TableCell className="align-top"><Badge variant={event.source === 'webhook' ? 'info' : 'secondary'}>{event.source}</Badge></TableCell>
      <TableCell className="max-w-80 align-top">
        <details>
          <summary className="cursor-pointer truncate font-mono text-xs text-muted-foreground">{payload}</summary>
          <pre className="mt-2 max-h-64 overflow-auto rounded border bg-muted/40 p-2 font-mono text-xs">{JSON.stringify(event.payload, null, 2)}</pre>
        </details>
      </TableCell>
      <TableCell className="align-top">
        {event.triggered.length === 0 ? (
          <span className="text-muted-foreground">none</span>
        ) : (
          <ul className="grid gap-1">
            {event.triggered.map((run) => (
              <li key={run.id} className="flex items-center gap-2">
                <Link to="/runs/$runId" params={{ runId: run.id }} className="text-sm text-primary hover:underline">
                  {run.workflow} <span className="font-mono text-xs">{shortId(run.id)}</span>
                </Link>
                <StatusBadge status={run.status} />
              </li>
            ))}
          </ul>
        )}
      </TableCell>
    </TableRow>
  )
}

function PushEventDialog() {
  const [open, setOpen] = useState(false)
  const push = usePushEvent()
  const [key, setKey] = useState('')
  const [payload, setPayload] = useState('{\n  \n}')
  const [metadata, setMetadata] = useState('')
  const [errors, setErrors] = useState<{ key?: string; payload?: string; metadata?: string }>({})
  return (
    <Dialog open={open} onOpenChange={(next) => { setOpen(next); if (!next) { push.reset(); setErrors({}) } }}>
      <DialogTrigger asChild>
        <Button><SendIcon /> Push event</Button>
      </DialogTrigger>
      <DialogContent>
        <form className="grid gap-4" noValidate
          onSubmit={(e) => {
            e.preventDefault()
            const p = parseJsonInput(payload, { emptyAs: {} })
            const m = parseJsonObject(metadata)
            const next = {
              key: !key.trim() ? 'Required.' : /\s|\*/.test(key.trim()) ? 'No spaces or * in a key.' : undefined,
              payload: p.ok ? undefined : p.error,
              metadata: m.ok ? undefined : m.error,
            }
            setErrors(next)
            if (next.key || !p.ok || !m.ok) return
            push.mutate(
              { key: key.trim(), payload: p.value, metadata: m.value as Record<string, unknown> },
              {
                onSuccess: (created) => {
                  toast(`Event ${created.key} pushed`, {
                    variant: 'success',
                    description: created.runs.length ? `It started ${created.runs.length} run${created.runs.length === 1 ? '' : 's'}.` : 'No workflow subscribes to this key.',
                  })
                  setOpen(false)
                },
              },
            )
          }}>
          <DialogHeader>
            <DialogTitle>Push an event</DialogTitle>
            <DialogDescription>Workflows whose on_events match the key start a run with the payload as input.</DialogDescription>
          </DialogHeader>
          {push.error ? <ErrorAlert error={push.error} title="Could not push the event" /> : null}
          <Field id="event-key" label="Key" required error={errors.key}>
            <Input id="event-key" placeholder="order:created" value={key} maxLength={255} onChange={(e) => setKey(e.target.value)} />
          </Field>
          <Field id="event-payload" label="Payload (JSON)" error={errors.payload}>
            <Textarea id="event-payload" rows={6} spellCheck={false} value={payload} onChange={(e) => setPayload(e.target.value)} />
          </Field>
          <Field id="event-metadata" label="Metadata (JSON object, optional)" error={errors.metadata}>
            <Textarea id="event-metadata" rows={2} className="min-h-14" spellCheck={false} value={metadata} onChange={(e) => setMetadata(e.target.value)} />
          </Field>
          <DialogFooter>
            <Button variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" disabled={push.isPending}>{push.isPending ? 'Pushing…' : 'Push event'}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}
