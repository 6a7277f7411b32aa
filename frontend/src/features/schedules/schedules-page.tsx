import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { CalendarClockIcon, PlusIcon } from 'lucide-react'
import { useState } from 'react'
import { can, meQuery } from '@/api/auth'
import { errorMessage } from '@/api/errors'
import {
  type Cron,
  cronsQuery,
  type Schedule,
  schedulesQuery,
  useCreateCron,
  useCreateSchedule,
  useDeleteCron,
  useDeleteSchedule,
  useUpdateCron,
} from '@/api/triggers'
import { workflowsQuery } from '@/api/workflows'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '@/components/ui/dialog'
import { EmptyState } from '@/components/ui/empty-state'
import { Field, Input, NativeSelect, Textarea } from '@/components/ui/input'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { toast } from '@/components/ui/toast'
import { isoToLocalInput, localInputToIso } from '@/features/runs/filter-bar'
import { parseJsonInput } from '@/features/runs/json'
import { formatDateTime, formatRelative } from '@/lib/format'
import { shortId } from '@/lib/ids'

const route = getRouteApi('/app/schedules')

export function SchedulesPage() {
  const { data: me } = useQuery(meQuery)
  const { tab = 'crons' } = route.useSearch()
  const navigate = route.useNavigate()
  const trigger = can(me, 'trigger')
  return (
    <>
      <PageHeader
        title="Crons & schedules"
        description="Recurring cron triggers and one-off runs at a set time. Crons declared in a workflow (on_crons) appear here too."
        actions={trigger ? (tab === 'crons' ? <CreateCronDialog /> : <CreateScheduleDialog />) : null}
      />
      <Tabs value={tab} onValueChange={(value) => void navigate({ search: { tab: value as 'crons' | 'once' } })}>
        <TabsList>
          <TabsTrigger value="crons">Crons</TabsTrigger>
          <TabsTrigger value="once">One-off schedules</TabsTrigger>
        </TabsList>
        <TabsContent value="crons"><Crons canEdit={trigger} /></TabsContent>
        <TabsContent value="once"><Schedules canEdit={trigger} /></TabsContent>
      </Tabs>
    </>
  )
}

function Crons({ canEdit }: { canEdit: boolean }) {
  const crons = useQuery(cronsQuery)
  const update = useUpdateCron()
  const remove = useDeleteCron()
  const [deleting, setDeleting] = useState<Cron | null>(null)
  if (crons.isPending) return <TableSkeleton columns={5} />
  if (crons.isError) return <ErrorAlert error={crons.error} title="Could not load crons" onRetry={() => void crons.refetch()} />
  if (crons.data.items.length === 0) {
    return (
      <EmptyState icon={CalendarClockIcon} title="No crons yet" action={canEdit ? <CreateCronDialog /> : null}>
        Add one here, or declare on_crons=["0 * * * *"] on a workflow in your worker.
      </EmptyState>
    )
  }
  return (
    <>
      <Table aria-label="Crons">
        <TableHeader>
          <TableRow>
            <TableHead>Workflow</TableHead>
            <TableHead>Schedule</TableHead>
            <TableHead>Next</TableHead>
            <TableHead>Last</TableHead>
            <TableHead>Source</TableHead>
            <TableHead className="sr-only">Actions</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {crons.data.items.map((cron) => (
            <TableRow key={cron.id}>
              <TableCell className="font-medium">
                <Link to="/workflows/$name" params={{ name: cron.workflow }} className="hover:underline">{cron.workflow}</Link>
                {!cron.enabled ? <Badge variant="muted" className="ml-2">paused</Badge> : null}
              </TableCell>
              <TableCell>
                <code className="font-mono text-xs">{cron.expression}</code>
                <span className="ml-2 text-xs text-muted-foreground">{cron.timezone}</span>
              </TableCell>
              <TableCell title={cron.upcoming.map((t) => formatDateTime(t)).join('\n')}>
                {cron.enabled && cron.next_fire_at ? formatRelative(cron.next_fire_at) : '—'}
              </TableCell>
              <TableCell>
                {cron.last_run_id ? (
                  <Link to="/runs/$runId" params={{ runId: cron.last_run_id }} className="text-primary hover:underline">
                    {cron.last_fired_at ? formatRelative(cron.last_fired_at) : shortId(cron.last_run_id)}
                  </Link>
                ) : 'Never'}
                <span className="ml-1 text-xs text-muted-foreground">({cron.fire_count}×)</span>
                {cron.last_error ? <p className="max-w-56 truncate text-xs text-destructive" title={cron.last_error}>{cron.last_error}</p> : null}
              </TableCell>
              <TableCell><Badge variant="secondary">{cron.source}</Badge></TableCell>
              <TableCell>
                {canEdit ? (
                  <div className="flex justify-end gap-1">
                    <Button variant="ghost" size="sm" disabled={update.isPending}
                      onClick={() => update.mutate({ id: cron.id, enabled: !cron.enabled }, {
                        onError: (error) => toast('Could not update', { description: errorMessage(error), variant: 'error' }),
                      })}>
                      {cron.enabled ? 'Pause' : 'Resume'}
                    </Button>
                    {cron.source === 'api' ? (
                      <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setDeleting(cron)}>Delete</Button>
                    ) : null}
                  </div>
                ) : null}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => { if (!open) { setDeleting(null); remove.reset() } }}
        title="Delete this cron?"
        description={`${deleting?.workflow ?? ''} stops running on “${deleting?.expression ?? ''}”. Runs it already started are not affected.`}
        confirmLabel="Delete cron"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSuccess: () => { toast('Cron deleted', { variant: 'success' }); setDeleting(null) } })}
      />
    </>
  )
}

const SCHEDULE_VARIANT: Record<string, 'info' | 'success' | 'destructive'> = { pending: 'info', fired: 'success', failed: 'destructive' }

function Schedules({ canEdit }: { canEdit: boolean }) {
  const schedules = useQuery(schedulesQuery)
  const remove = useDeleteSchedule()
  const [deleting, setDeleting] = useState<Schedule | null>(null)
  if (schedules.isPending) return <TableSkeleton columns={4} />
  if (schedules.isError) return <ErrorAlert error={schedules.error} title="Could not load schedules" onRetry={() => void schedules.refetch()} />
  if (schedules.data.items.length === 0) {
    return (
      <EmptyState icon={CalendarClockIcon} title="Nothing scheduled" action={canEdit ? <CreateScheduleDialog /> : null}>
        Schedule a run of any workflow at a given time.
      </EmptyState>
    )
  }
  return (
    <>
      <Table aria-label="One-off schedules">
        <TableHeader>
          <TableRow>
            <TableHead>Workflow</TableHead>
            <TableHead>At</TableHead>
            <TableHead>Status</TableHead>
            <TableHead>Run</TableHead>
            <TableHead className="sr-only">Actions</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {schedules.data.items.map((s) => (
            <TableRow key={s.id}>
              <TableCell className="font-medium">{s.workflow}</TableCell>
              <TableCell title={formatDateTime(s.at)}>{formatDateTime(s.at)} <span className="text-xs text-muted-foreground">({formatRelative(s.at)})</span></TableCell>
              <TableCell>
                <Badge variant={SCHEDULE_VARIANT[s.status] ?? 'muted'}>{s.status}</Badge>
                {s.error ? <p className="max-w-56 truncate text-xs text-destructive" title={s.error}>{s.error}</p> : null}
              </TableCell>
              <TableCell>
                {s.run_id ? <Link to="/runs/$runId" params={{ runId: s.run_id }} className="font-mono text-xs text-primary hover:underline">{shortId(s.run_id)}</Link> : '—'}
              </TableCell>
              <TableCell className="text-right">
                {canEdit && s.status === 'pending' ? (
                  <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setDeleting(s)}>Cancel</Button>
                ) : null}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => { if (!open) { setDeleting(null); remove.reset() } }}
        title="Cancel this scheduled run?"
        description={`${deleting?.workflow ?? ''} will not run at ${deleting ? formatDateTime(deleting.at) : ''}.`}
        confirmLabel="Cancel schedule"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSuccess: () => { toast('Schedule cancelled', { variant: 'success' }); setDeleting(null) } })}
      />
    </>
  )
}

function WorkflowSelect({ id, value, onChange, error }: { id: string; value: string; onChange: (v: string) => void; error?: string }) {
  const workflows = useQuery(workflowsQuery)
  return (
    <Field id={id} label="Workflow" required error={error}>
      <NativeSelect id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined}>
        <option value="">{workflows.isPending ? 'Loading…' : 'Choose a workflow'}</option>
        {workflows.data?.items.map((w) => <option key={w.name} value={w.name}>{w.name}</option>)}
      </NativeSelect>
    </Field>
  )
}

const LOCAL_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'

function CreateCronDialog() {
  const [open, setOpen] = useState(false)
  const create = useCreateCron()
  const [workflow, setWorkflow] = useState('')
  const [expression, setExpression] = useState('0 * * * *')
  const [timezone, setTimezone] = useState(LOCAL_TZ)
  const [missed, setMissed] = useState<'run_once' | 'skip'>('run_once')
  const [input, setInput] = useState('{}')
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  return (
    <Dialog open={open} onOpenChange={(next) => { setOpen(next); if (!next) { create.reset(); setErrors({}) } }}>
      <DialogTrigger asChild><Button><PlusIcon /> Add cron</Button></DialogTrigger>
      <DialogContent>
        <form className="grid gap-4" noValidate onSubmit={(e) => {
          e.preventDefault()
          const parsed = parseJsonInput(input, { emptyAs: {} })
          const next = {
            workflow: workflow ? undefined : 'Pick a workflow.',
            expression: expression.trim().split(/\s+/).length === 5 ? undefined : 'Use 5 fields: minute hour day-of-month month day-of-week.',
            input: parsed.ok ? undefined : parsed.error,
          }
          setErrors(next)
          if (next.workflow || next.expression || !parsed.ok) return
          create.mutate(
            { workflow, expression: expression.trim(), timezone: timezone.trim() || 'UTC', missed, input: parsed.value },
            { onSuccess: (cron) => { toast(`Cron added: next run ${cron.next_fire_at ? formatRelative(cron.next_fire_at) : 'soon'}`, { variant: 'success' }); setOpen(false) } },
          )
        }}>
          <DialogHeader>
            <DialogTitle>Add a cron</DialogTitle>
            <DialogDescription>Start a workflow on a recurring schedule.</DialogDescription>
          </DialogHeader>
          {create.error ? <ErrorAlert error={create.error} title="Could not add the cron" /> : null}
          <WorkflowSelect id="cron-workflow" value={workflow} onChange={setWorkflow} error={errors.workflow} />
          <div className="grid grid-cols-2 gap-3">
            <Field id="cron-expression" label="Cron expression" required error={errors.expression} hint="e.g. 0 9 * * 1-5">
              <Input id="cron-expression" className="font-mono" value={expression} onChange={(e) => setExpression(e.target.value)} />
            </Field>
            <Field id="cron-timezone" label="Time zone" hint="IANA name">
              <Input id="cron-timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
            </Field>
          </div>
          <Field id="cron-missed" label="After downtime">
            <NativeSelect id="cron-missed" value={missed} onChange={(e) => setMissed(e.target.value as 'run_once' | 'skip')}>
              <option value="run_once">Run once for the missed times</option>
              <option value="skip">Skip the missed times</option>
            </NativeSelect>
          </Field>
          <Field id="cron-input" label="Input (JSON)" error={errors.input}>
            <Textarea id="cron-input" rows={4} spellCheck={false} value={input} onChange={(e) => setInput(e.target.value)} />
          </Field>
          <DialogFooter>
            <Button variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" disabled={create.isPending}>{create.isPending ? 'Adding…' : 'Add cron'}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}

function CreateScheduleDialog() {
  const [open, setOpen] = useState(false)
  const create = useCreateSchedule()
  const [workflow, setWorkflow] = useState('')
  const [at, setAt] = useState(() => isoToLocalInput(new Date(Date.now() + 3_600_000).toISOString()))
  const [input, setInput] = useState('{}')
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  return (
    <Dialog open={open} onOpenChange={(next) => { setOpen(next); if (!next) { create.reset(); setErrors({}) } }}>
      <DialogTrigger asChild><Button><PlusIcon /> Schedule a run</Button></DialogTrigger>
      <DialogContent>
        <form className="grid gap-4" noValidate onSubmit={(e) => {
          e.preventDefault()
          const parsed = parseJsonInput(input, { emptyAs: {} })
          const when = localInputToIso(at)
          const next = { workflow: workflow ? undefined : 'Pick a workflow.', at: when ? undefined : 'Pick a date and time.', input: parsed.ok ? undefined : parsed.error }
          setErrors(next)
          if (next.workflow || !when || !parsed.ok) return
          create.mutate({ workflow, at: when, input: parsed.value }, {
            onSuccess: () => { toast('Run scheduled', { variant: 'success' }); setOpen(false) },
          })
        }}>
          <DialogHeader>
            <DialogTitle>Schedule a run</DialogTitle>
            <DialogDescription>Start a workflow once, at a set time (your local time).</DialogDescription>
          </DialogHeader>
          {create.error ? <ErrorAlert error={create.error} title="Could not schedule" /> : null}
          <WorkflowSelect id="schedule-workflow" value={workflow} onChange={setWorkflow} error={errors.workflow} />
          <Field id="schedule-at" label="At" required error={errors.at}>
            <Input id="schedule-at" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />
          </Field>
          <Field id="schedule-input" label="Input (JSON)" error={errors.input}>
            <Textarea id="schedule-input" rows={4} spellCheck={false} value={input} onChange={(e) => setInput(e.target.value)} />
          </Field>
          <DialogFooter>
            <Button variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" disabled={create.isPending}>{create.isPending ? 'Scheduling…' : 'Schedule'}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}
