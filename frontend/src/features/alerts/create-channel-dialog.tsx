import { useQuery } from '@tanstack/react-query'
import { PlusIcon } from 'lucide-react'
import { useState } from 'react'
import { CHANNEL_EVENTS, type ChannelCreated, channelTypesQuery, useCreateChannel } from '@/api/alerts'
import { ErrorAlert } from '@/components/error-alert'
import { JsonSchemaForm, defaultValue, pruneEmpty, validate } from '@/components/json-schema-form'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '@/components/ui/dialog'
import { Checkbox, Field, Input, Label, NativeSelect } from '@/components/ui/input'
import { Skeleton } from '@/components/ui/skeleton'
import { toast } from '@/components/ui/toast'
import { SecretOnce } from '@/features/api-keys/create-api-key-dialog'

/** Add an alert channel: pick a type, then fill in the form its JSON Schema describes. */
export function CreateChannelDialog() {
  const [open, setOpen] = useState(false)
  const types = useQuery({ ...channelTypesQuery, enabled: open })
  const create = useCreateChannel()
  const [type, setType] = useState('')
  const [name, setName] = useState('')
  const [events, setEvents] = useState<string[]>(['run.failed'])
  const [workflows, setWorkflows] = useState('')
  const [config, setConfig] = useState<unknown>({})
  const [submitted, setSubmitted] = useState(false)
  const [created, setCreated] = useState<ChannelCreated | null>(null)

  const chosen = types.data?.find((t) => t.type === type) ?? types.data?.[0]
  const pick = (next: string) => {
    setType(next)
    const schema = types.data?.find((t) => t.type === next)?.config_schema
    setConfig(schema ? (defaultValue(schema) ?? {}) : {})
    setSubmitted(false)
  }
  const reset = () => {
    setType('')
    setName('')
    setEvents(['run.failed'])
    setWorkflows('')
    setConfig({})
    setSubmitted(false)
    setCreated(null)
    create.reset()
  }
  const configErrors = chosen ? validate(chosen.config_schema, config) : {}
  const secrets = Object.entries(created?.generated_secrets ?? {})

  return (
    <Dialog open={open} onOpenChange={(next) => { setOpen(next); if (!next) reset() }}>
      <DialogTrigger asChild>
        <Button><PlusIcon /> Add channel</Button>
      </DialogTrigger>
      <DialogContent className="max-w-xl">
        {created ? (
          <>
            <DialogHeader>
              <DialogTitle>Channel “{created.name}” added</DialogTitle>
              <DialogDescription>
                {secrets.length ? 'Kiln generated a secret for it. Configure the receiver with it now.' : 'Send a test alert to check it works.'}
              </DialogDescription>
            </DialogHeader>
            {secrets.map(([field, value]) => (
              <div key={field} className="grid gap-1.5">
                <p className="text-sm font-medium">{field}</p>
                <SecretOnce secret={value} label="Copy secret" />
              </div>
            ))}
            <DialogFooter><Button onClick={() => setOpen(false)}>Done</Button></DialogFooter>
          </>
        ) : (
          <form
            className="grid gap-4"
            noValidate
            onSubmit={(event) => {
              event.preventDefault()
              setSubmitted(true)
              if (!chosen || !name.trim() || events.length === 0 || Object.keys(configErrors).length) return
              create.mutate(
                {
                  type: chosen.type,
                  name: name.trim(),
                  events,
                  config: pruneEmpty(chosen.config_schema, config) as Record<string, unknown>,
                  filters: { workflows: workflows.split(',').map((w) => w.trim()).filter(Boolean), metadata: {} },
                },
                {
                  onSuccess: (channel) => {
                    if (Object.keys(channel.generated_secrets ?? {}).length) setCreated(channel)
                    else {
                      toast(`Channel “${channel.name}” added`, { variant: 'success' })
                      setOpen(false)
                    }
                  },
                },
              )
            }}
          >
            <DialogHeader>
              <DialogTitle>Add an alert channel</DialogTitle>
              <DialogDescription>Where Kiln tells you about failures and lost workers.</DialogDescription>
            </DialogHeader>
            {create.error ? <ErrorAlert error={create.error} title="Could not add the channel" /> : null}
            {types.isError ? <ErrorAlert error={types.error} title="Could not load channel types" /> : null}
            {types.isPending ? (
              <Skeleton className="h-40" />
            ) : chosen ? (
              <>
                <Field id="channel-type" label="Type" hint={chosen.description}>
                  <NativeSelect id="channel-type" value={chosen.type} aria-describedby="channel-type-hint" onChange={(e) => pick(e.target.value)}>
                    {types.data?.map((t) => <option key={t.type} value={t.type}>{t.title}</option>)}
                  </NativeSelect>
                </Field>
                <Field id="channel-name" label="Name" required error={submitted && !name.trim() ? 'Required.' : undefined}>
                  <Input id="channel-name" value={name} maxLength={100} required onChange={(e) => setName(e.target.value)} />
                </Field>
                <fieldset className="grid gap-1.5">
                  <legend className="mb-1 text-sm font-medium">Send on<span className="ml-0.5 text-destructive" aria-hidden>*</span></legend>
                  <div className="grid gap-1.5 sm:grid-cols-2">
                    {CHANNEL_EVENTS.map(({ event, label }) => (
                      <div key={event} className="flex items-center gap-2">
                        <Checkbox id={`event-${event}`} checked={events.includes(event)}
                          onChange={(e) => setEvents((cur) => (e.target.checked ? [...cur, event] : cur.filter((x) => x !== event)))} />
                        <Label htmlFor={`event-${event}`} className="font-normal">{label}</Label>
                      </div>
                    ))}
                  </div>
                  {submitted && events.length === 0 ? <p role="alert" className="text-xs text-destructive">Pick at least one event.</p> : null}
                </fieldset>
                <Field id="channel-workflows" label="Only for workflows" hint="Comma-separated names or patterns (etl-*). Empty: all workflows.">
                  <Input id="channel-workflows" value={workflows} aria-describedby="channel-workflows-hint" onChange={(e) => setWorkflows(e.target.value)} />
                </Field>
                <fieldset className="grid gap-3 rounded-lg border p-4">
                  <legend className="px-1 text-sm font-semibold">{chosen.title} settings</legend>
                  <JsonSchemaForm key={chosen.type} schema={chosen.config_schema} value={config} onChange={setConfig} showErrors={submitted} />
                </fieldset>
              </>
            ) : (
              <p className="text-sm text-muted-foreground">No alert channel types are installed on this server.</p>
            )}
            <DialogFooter>
              <Button variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
              <Button type="submit" disabled={create.isPending || !chosen}>{create.isPending ? 'Adding…' : 'Add channel'}</Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  )
}
