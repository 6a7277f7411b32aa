import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { BellIcon, InboxIcon, SendIcon } from 'lucide-react'
import { useState } from 'react'
import {
  type Channel,
  channelTypesQuery,
  channelsQuery,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  deliveriesQuery,
  useDeleteChannel,
  useTestChannel,
  useUpdateChannel,
} from '@/api/alerts'
import { can, meQuery } from '@/api/auth'
import { errorMessage } from '@/api/errors'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Pager, useCursorPager } from '@/components/pager'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { Label, NativeSelect } from '@/components/ui/input'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { toast } from '@/components/ui/toast'
import { formatDateTime, formatRelative } from '@/lib/format'
import { CreateChannelDialog } from './create-channel-dialog'

const route = getRouteApi('/app/alerts')

export function AlertsPage() {
  const { data: me } = useQuery(meQuery)
  const search = route.useSearch()
  const navigate = route.useNavigate()
  const manage = can(me, 'manage')
  return (
    <>
      <PageHeader
        title="Alerts"
        description="Channels Kiln notifies when runs fail, tasks time out or workers disappear, and every delivery it made."
        actions={manage ? <CreateChannelDialog /> : null}
      />
      {!manage ? (
        <EmptyState icon={BellIcon} title="Only owners and admins manage alerts">
          Ask an owner of this tenant to add you a channel.
        </EmptyState>
      ) : (
        <Tabs value={search.tab ?? 'channels'} onValueChange={(tab) => void navigate({ search: { tab: tab as 'channels' | 'deliveries' } })}>
          <TabsList>
            <TabsTrigger value="channels">Channels</TabsTrigger>
            <TabsTrigger value="deliveries">Delivery log</TabsTrigger>
          </TabsList>
          <TabsContent value="channels"><Channels /></TabsContent>
          <TabsContent value="deliveries"><Deliveries /></TabsContent>
        </Tabs>
      )}
    </>
  )
}

function Channels() {
  const channels = useQuery(channelsQuery)
  const types = useQuery(channelTypesQuery)
  const navigate = route.useNavigate()
  const test = useTestChannel()
  const update = useUpdateChannel()
  const remove = useDeleteChannel()
  const [deleting, setDeleting] = useState<Channel | null>(null)
  const title = (type: string) => types.data?.find((t) => t.type === type)?.title ?? type

  if (channels.isPending) return <TableSkeleton columns={5} />
  if (channels.isError) return <ErrorAlert error={channels.error} title="Could not load channels" onRetry={() => void channels.refetch()} />
  if (channels.data.items.length === 0) {
    return (
      <EmptyState icon={BellIcon} title="No alert channels yet" action={<CreateChannelDialog />}>
        Add a Slack, webhook or e-mail channel and Kiln tells it when runs fail.
      </EmptyState>
    )
  }
  return (
    <>
      <Table aria-label="Alert channels">
        <TableHeader>
          <TableRow>
            <TableHead>Name</TableHead>
            <TableHead>Type</TableHead>
            <TableHead>Sends on</TableHead>
            <TableHead>State</TableHead>
            <TableHead>Last success</TableHead>
            <TableHead className="sr-only">Actions</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {channels.data.items.map((channel) => (
            <TableRow key={channel.id} data-testid="channel-row">
              <TableCell className="font-medium">{channel.name}</TableCell>
              <TableCell>{title(channel.type)}</TableCell>
              <TableCell>
                <div className="flex max-w-72 flex-wrap gap-1">
                  {channel.events.map((e) => <Badge key={e} variant="outline" className="font-mono font-normal">{e}</Badge>)}
                </div>
                {channel.filters.workflows?.length ? (
                  <p className="mt-1 text-xs text-muted-foreground">only {channel.filters.workflows.join(', ')}</p>
                ) : null}
              </TableCell>
              <TableCell><ChannelState channel={channel} /></TableCell>
              <TableCell title={formatDateTime(channel.last_success_at)}>{channel.last_success_at ? formatRelative(channel.last_success_at) : 'Never'}</TableCell>
              <TableCell>
                <div className="flex justify-end gap-1">
                  <Button variant="ghost" size="sm" disabled={test.isPending}
                    onClick={() =>
                      test.mutate(channel.id, {
                        onSuccess: (delivery) =>
                          delivery.status === 'succeeded'
                            ? toast(`Test alert delivered to “${channel.name}”`, { variant: 'success' })
                            : toast(`Test alert to “${channel.name}” failed`, { variant: 'error', description: delivery.last_error ?? delivery.status }),
                        onError: (error) => toast('Could not send the test', { description: errorMessage(error), variant: 'error' }),
                      })
                    }>
                    <SendIcon /> Test
                  </Button>
                  <Button variant="ghost" size="sm" disabled={update.isPending}
                    onClick={() =>
                      update.mutate({ id: channel.id, body: { enabled: !channel.enabled } }, {
                        onError: (error) => toast('Could not update the channel', { description: errorMessage(error), variant: 'error' }),
                      })
                    }>
                    {channel.enabled ? 'Disable' : 'Enable'}
                  </Button>
                  <Button variant="ghost" size="sm"
                    onClick={() => void navigate({ search: { tab: 'deliveries', channel: channel.id } })}>
                    Log
                  </Button>
                  <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setDeleting(channel)}>Delete</Button>
                </div>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => { if (!open) { setDeleting(null); remove.reset() } }}
        title={`Delete “${deleting?.name ?? ''}”?`}
        description="It stops receiving alerts at once. Its delivery log goes with it."
        confirmLabel="Delete channel"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSuccess: () => { toast(`Deleted “${deleting.name}”`, { variant: 'success' }); setDeleting(null) } })}
      />
    </>
  )
}

function ChannelState({ channel }: { channel: Channel }) {
  if (!channel.enabled) {
    return (
      <div className="grid gap-0.5">
        <Badge variant="muted">disabled</Badge>
        {channel.disabled_reason ? <span className="max-w-56 text-xs text-muted-foreground">{channel.disabled_reason}</span> : null}
      </div>
    )
  }
  if (channel.consecutive_failures > 0) {
    return (
      <div className="grid gap-0.5">
        <Badge variant="destructive">failing</Badge>
        <span className="text-xs text-muted-foreground">
          {channel.consecutive_failures} failure{channel.consecutive_failures === 1 ? '' : 's'} in a row
          {channel.failing_since ? `, since ${formatRelative(channel.failing_since)}` : ''}
        </span>
      </div>
    )
  }
  return <Badge variant="success">active</Badge>
}

const DELIVERY_VARIANT: Record<string, 'success' | 'destructive' | 'info' | 'muted'> = {
  succeeded: 'success',
  failed: 'destructive',
  pending: 'info',
  cancelled: 'muted',
}

function Deliveries() {
  const search = route.useSearch()
  const navigate = route.useNavigate()
  const channels = useQuery(channelsQuery)
  const deliveries = useQuery(deliveriesQuery(search))
  const names = new Map(channels.data?.items.map((c) => [c.id, c.name]))
  const pager = useCursorPager({
    cursor: search.cursor,
    resetKey: `${search.channel}/${search.status}`,
    setCursor: (cursor) => void navigate({ search: (prev) => ({ ...prev, cursor }) }),
  })
  const setFilter = (patch: { channel?: string; status?: DeliveryStatus }) =>
    void navigate({ search: (prev) => ({ ...prev, ...patch, cursor: undefined }) })

  return (
    <>
      <div className="mb-4 flex flex-wrap items-end gap-3">
        <div className="grid gap-1.5">
          <Label htmlFor="deliveries-channel">Channel</Label>
          <NativeSelect id="deliveries-channel" className="w-56" value={search.channel ?? ''}
            onChange={(e) => setFilter({ channel: e.target.value || undefined })}>
            <option value="">All channels</option>
            {channels.data?.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </NativeSelect>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="deliveries-status">Status</Label>
          <NativeSelect id="deliveries-status" className="w-40" value={search.status ?? ''}
            onChange={(e) => setFilter({ status: (e.target.value || undefined) as DeliveryStatus | undefined })}>
            <option value="">Any status</option>
            {DELIVERY_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </NativeSelect>
        </div>
      </div>
      {deliveries.isPending ? (
        <TableSkeleton rows={6} columns={5} />
      ) : deliveries.isError ? (
        <ErrorAlert error={deliveries.error} title="Could not load deliveries" onRetry={() => void deliveries.refetch()} />
      ) : deliveries.data.items.length === 0 ? (
        <EmptyState icon={InboxIcon} title="No deliveries">
          {search.channel || search.status ? 'Nothing matches these filters.' : 'Alerts Kiln sends, and test alerts, are listed here with every attempt.'}
        </EmptyState>
      ) : (
        <Table aria-label="Alert deliveries">
          <TableHeader>
            <TableRow>
              <TableHead>When</TableHead>
              <TableHead>Channel</TableHead>
              <TableHead>Event</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Attempts</TableHead>
              <TableHead>Last error</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {deliveries.data.items.map((d) => {
              const last = d.attempts[d.attempts.length - 1]
              return (
                <TableRow key={d.id}>
                  <TableCell className="whitespace-nowrap" title={formatDateTime(d.created_at)}>{formatRelative(d.created_at)}</TableCell>
                  <TableCell>{names.get(d.channel_id) ?? '—'}</TableCell>
                  <TableCell>
                    <code className="font-mono text-xs">{d.event}</code>
                    {d.event_count > 1 ? <span className="ml-1 text-xs text-muted-foreground">×{d.event_count}</span> : null}
                  </TableCell>
                  <TableCell><Badge variant={DELIVERY_VARIANT[d.status] ?? 'muted'}>{d.status}</Badge></TableCell>
                  <TableCell className="whitespace-nowrap text-sm">
                    {d.attempts.length}
                    {last?.status_code ? <span className="ml-1 text-muted-foreground">(HTTP {last.status_code})</span> : null}
                    {d.next_attempt_at && d.status === 'pending' ? (
                      <p className="text-xs text-muted-foreground">next {formatRelative(d.next_attempt_at)}</p>
                    ) : null}
                  </TableCell>
                  <TableCell className="max-w-72 truncate text-xs text-muted-foreground" title={d.last_error ?? ''}>{d.last_error ?? '—'}</TableCell>
                </TableRow>
              )
            })}
          </TableBody>
        </Table>
      )}
      <Pager page={pager.page} hasPrevious={pager.hasPrevious} nextCursor={deliveries.data?.next_cursor}
        onPrevious={pager.previous} onNext={pager.next} busy={deliveries.isFetching && deliveries.isPlaceholderData} />
    </>
  )
}
