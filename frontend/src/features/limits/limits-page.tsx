import { useQuery } from '@tanstack/react-query'
import { GaugeIcon, PlusIcon, WorkflowIcon } from 'lucide-react'
import { useState } from 'react'
import { can, meQuery } from '@/api/auth'
import { errorMessage } from '@/api/errors'
import {
  concurrencyUsageQuery,
  type RateLimit,
  rateLimitsQuery,
  strategiesQuery,
  useDeleteRateLimit,
  usePutDefaultStrategy,
  usePutRateLimit,
} from '@/api/limits'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { EmptyState } from '@/components/ui/empty-state'
import { Label, NativeSelect } from '@/components/ui/input'
import { TableSkeleton } from '@/components/ui/skeleton'
import { toast } from '@/components/ui/toast'
import { ConcurrencyTable } from './concurrency-table'
import { draftFrom, emptyDraft } from './rate-limit-draft'
import { RateLimitForm } from './rate-limit-form'
import { RateLimitsTable } from './rate-limits-table'

/** Rate limits and concurrency keys of the tenant, with their usage now (docs/flow-control.md). */
export function LimitsPage() {
  const { data: me } = useQuery(meQuery)
  const manage = can(me, 'manage')
  const limits = useQuery(rateLimitsQuery)
  const strategies = useQuery(strategiesQuery)
  const concurrency = useQuery(concurrencyUsageQuery)
  const put = usePutRateLimit()
  const remove = useDeleteRateLimit()
  // null: closed; 'new': a new key; a limit: editing it.
  const [editing, setEditing] = useState<RateLimit | 'new' | null>(null)
  const [removing, setRemoving] = useState<RateLimit | null>(null)
  const closeForm = () => {
    setEditing(null)
    put.reset()
  }
  const setLimit = manage ? (
    <Button onClick={() => setEditing('new')}><PlusIcon /> Set a limit</Button>
  ) : null

  return (
    <>
      <PageHeader
        title="Rate limits & concurrency"
        description="Keep tasks within what the systems they call can take. Limits are enforced when a worker claims a task, across every worker."
        actions={setLimit}
      />
      <section aria-labelledby="rate-limits-heading" className="mb-8 grid gap-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <div>
            <h2 id="rate-limits-heading" className="text-lg font-semibold">Rate limits</h2>
            <p className="text-sm text-muted-foreground">Static keys are set here; dynamic keys appear when a task first uses them.</p>
          </div>
          {strategies.data ? <DefaultStrategy manage={manage} names={strategies.data.items.map((s) => s.name)} current={strategies.data.default_strategy} /> : null}
        </div>
        {limits.isPending ? (
          <TableSkeleton rows={4} columns={5} />
        ) : limits.isError ? (
          <ErrorAlert error={limits.error} title="Could not load rate limits" onRetry={() => void limits.refetch()} />
        ) : limits.data.items.length === 0 ? (
          <EmptyState icon={GaugeIcon} title="No rate limits yet" action={setLimit}>
            Give a key a limit here (say <code>crm-api</code>, 100 per minute), then list it in a task’s{' '}
            <code>rate_limits</code>. Tasks over the limit wait in the queue instead of failing.
          </EmptyState>
        ) : (
          <RateLimitsTable limits={limits.data.items} manage={manage} onEdit={setEditing} onRemove={setRemoving} />
        )}
      </section>
      <section aria-labelledby="concurrency-heading" className="grid gap-3">
        <div>
          <h2 id="concurrency-heading" className="text-lg font-semibold">Concurrency</h2>
          <p className="text-sm text-muted-foreground">Keys with runs or tasks holding a slot, or waiting for one.</p>
        </div>
        {concurrency.isPending ? (
          <TableSkeleton rows={3} columns={5} />
        ) : concurrency.isError ? (
          <ErrorAlert error={concurrency.error} title="Could not load concurrency keys" onRetry={() => void concurrency.refetch()} />
        ) : concurrency.data.items.length === 0 ? (
          <EmptyState icon={WorkflowIcon} title="No concurrency keys in use">
            Add <code>concurrency</code> to a workflow or task (for example <code>max_runs: 2</code> per{' '}
            <code>input.customer</code>); its keys show here while runs hold or wait for a slot.
          </EmptyState>
        ) : (
          <ConcurrencyTable keys={concurrency.data.items} />
        )}
      </section>

      <Dialog open={editing !== null} onOpenChange={(open) => { if (!open) closeForm() }}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{editing === 'new' ? 'Set a rate limit' : `Edit ${editing?.key ?? ''}`}</DialogTitle>
            <DialogDescription>Units per window, shared by every task that names the key.</DialogDescription>
          </DialogHeader>
          {editing !== null && strategies.data ? (
            <RateLimitForm
              key={editing === 'new' ? 'new' : editing.key}
              initial={editing === 'new' ? emptyDraft() : draftFrom(editing)}
              editing={editing !== 'new'}
              strategies={strategies.data.items}
              defaultStrategy={strategies.data.default_strategy}
              pending={put.isPending}
              error={put.error}
              onCancel={closeForm}
              onSubmit={(key, body) =>
                put.mutate({ key, body }, {
                  onSuccess: () => {
                    toast(`Rate limit “${key}” saved`, { variant: 'success' })
                    closeForm()
                  },
                })
              }
            />
          ) : strategies.isError ? (
            <ErrorAlert error={strategies.error} title="Could not load strategies" />
          ) : null}
        </DialogContent>
      </Dialog>
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => { if (!open) { setRemoving(null); remove.reset() } }}
        title={`Remove rate limit “${removing?.key ?? ''}”?`}
        description="Tasks that use this key wait until it is set again."
        confirmLabel="Remove"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => removing && remove.mutate(removing.key, {
          onSuccess: () => {
            toast(`Rate limit “${removing.key}” removed`, { variant: 'success' })
            setRemoving(null)
          },
        })}
      />
    </>
  )
}

function DefaultStrategy({ manage, names, current }: { manage: boolean; names: string[]; current: string }) {
  const save = usePutDefaultStrategy()
  if (!manage) return <p className="text-sm text-muted-foreground">Default strategy: {current}</p>
  return (
    <div className="flex items-center gap-2">
      <Label htmlFor="default-strategy">Default strategy</Label>
      <NativeSelect id="default-strategy" className="w-44" value={current} disabled={save.isPending}
        onChange={(e) => save.mutate(e.target.value, {
          onSuccess: (s) => toast(`Keys without a strategy now use ${s.default_strategy}`, { variant: 'success' }),
          onError: (error) => toast('Could not change the default', { description: errorMessage(error), variant: 'error' }),
        })}>
        {names.map((name) => <option key={name} value={name}>{name}</option>)}
      </NativeSelect>
    </div>
  )
}
