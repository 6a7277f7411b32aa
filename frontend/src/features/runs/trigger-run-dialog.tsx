import { useQuery } from '@tanstack/react-query'
import { useNavigate } from '@tanstack/react-router'
import { PlayIcon } from 'lucide-react'
import { useState } from 'react'
import { useTriggerRun } from '@/api/runs'
import { workflowsQuery } from '@/api/workflows'
import { ErrorAlert } from '@/components/error-alert'
import { Button } from '@/components/ui/button'
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from '@/components/ui/dialog'
import { Field, Input, NativeSelect, Textarea } from '@/components/ui/input'
import { toast } from '@/components/ui/toast'
import { parseJsonInput, parseJsonObject } from './json'

const PRIORITIES = [
  { value: '', label: 'Default (normal)' },
  { value: '1', label: 'Low' },
  { value: '2', label: 'Normal' },
  { value: '3', label: 'High' },
]

export function TriggerRunDialog({ defaultWorkflow, trigger }: { defaultWorkflow?: string; trigger?: React.ReactNode }) {
  const [open, setOpen] = useState(false)
  const workflows = useQuery({ ...workflowsQuery, enabled: open })
  const triggerRun = useTriggerRun()
  const navigate = useNavigate()
  const [workflow, setWorkflow] = useState(defaultWorkflow ?? '')
  const [input, setInput] = useState('{\n  \n}')
  const [metadata, setMetadata] = useState('')
  const [priority, setPriority] = useState('')
  const [idempotencyKey, setIdempotencyKey] = useState('')
  const [errors, setErrors] = useState<{ workflow?: string; input?: string; metadata?: string }>({})

  const names = workflows.data?.items.map((w) => w.name) ?? []
  const chosen = workflow || (names.length === 1 ? (names[0] ?? '') : '')

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next)
        if (!next) {
          triggerRun.reset()
          setErrors({})
        }
      }}
    >
      <DialogTrigger asChild>
        {trigger ?? (
          <Button>
            <PlayIcon /> Trigger run
          </Button>
        )}
      </DialogTrigger>
      <DialogContent className="max-w-xl">
        <form
          className="grid gap-4"
          noValidate
          onSubmit={(event) => {
            event.preventDefault()
            const parsedInput = parseJsonInput(input, { emptyAs: {} })
            const parsedMeta = parseJsonObject(metadata)
            const next = {
              workflow: chosen ? undefined : 'Pick a workflow.',
              input: parsedInput.ok ? undefined : parsedInput.error,
              metadata: parsedMeta.ok ? undefined : parsedMeta.error,
            }
            setErrors(next)
            if (!chosen || !parsedInput.ok || !parsedMeta.ok) return
            const meta = parsedMeta.value as Record<string, unknown>
            triggerRun.mutate(
              {
                workflow: chosen,
                input: parsedInput.value,
                metadata: Object.keys(meta).length ? meta : undefined,
                priority: priority ? Number(priority) : undefined,
                idempotencyKey: idempotencyKey.trim() || undefined,
              },
              {
                onSuccess: (run) => {
                  setOpen(false)
                  toast(`Run of ${run.workflow} started`, { variant: 'success' })
                  void navigate({ to: '/runs/$runId', params: { runId: run.id } })
                },
              },
            )
          }}
        >
          <DialogHeader>
            <DialogTitle>Trigger a run</DialogTitle>
            <DialogDescription>Start a workflow with a JSON input. A worker serving it picks it up.</DialogDescription>
          </DialogHeader>
          {triggerRun.error ? <ErrorAlert error={triggerRun.error} title="Could not start the run" /> : null}
          {workflows.error ? <ErrorAlert error={workflows.error} title="Could not load workflows" /> : null}
          <Field id="trigger-workflow" label="Workflow" required error={errors.workflow}
            hint={workflows.isSuccess && names.length === 0 ? 'No workflow is registered yet: start a worker first.' : undefined}>
            <NativeSelect id="trigger-workflow" value={chosen} required aria-invalid={errors.workflow ? true : undefined}
              onChange={(e) => setWorkflow(e.target.value)} disabled={workflows.isPending}>
              <option value="">{workflows.isPending ? 'Loading…' : 'Choose a workflow'}</option>
              {names.map((name) => <option key={name} value={name}>{name}</option>)}
            </NativeSelect>
          </Field>
          <Field id="trigger-input" label="Input (JSON)" error={errors.input} hint="Passed to every root task as `input`.">
            <Textarea id="trigger-input" rows={8} spellCheck={false} value={input}
              aria-invalid={errors.input ? true : undefined}
              aria-describedby={errors.input ? 'trigger-input-error' : 'trigger-input-hint'}
              onChange={(e) => setInput(e.target.value)} />
          </Field>
          <Field id="trigger-metadata" label="Metadata (JSON object, optional)" error={errors.metadata}
            hint='Searchable labels, e.g. {"customer": "acme"}.'>
            <Textarea id="trigger-metadata" rows={3} className="min-h-16" spellCheck={false} value={metadata}
              aria-invalid={errors.metadata ? true : undefined}
              aria-describedby={errors.metadata ? 'trigger-metadata-error' : 'trigger-metadata-hint'}
              onChange={(e) => setMetadata(e.target.value)} />
          </Field>
          <div className="grid grid-cols-2 gap-3">
            <Field id="trigger-priority" label="Priority">
              <NativeSelect id="trigger-priority" value={priority} onChange={(e) => setPriority(e.target.value)}>
                {PRIORITIES.map((p) => <option key={p.value} value={p.value}>{p.label}</option>)}
              </NativeSelect>
            </Field>
            <Field id="trigger-idempotency" label="Idempotency key" hint="Repeats return the same run.">
              <Input id="trigger-idempotency" value={idempotencyKey} maxLength={200}
                aria-describedby="trigger-idempotency-hint" onChange={(e) => setIdempotencyKey(e.target.value)} />
            </Field>
          </div>
          <DialogFooter>
            <Button variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" disabled={triggerRun.isPending}>
              {triggerRun.isPending ? 'Starting…' : 'Start run'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}
