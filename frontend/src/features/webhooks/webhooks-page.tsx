import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { PlusIcon, WebhookIcon } from 'lucide-react'
import { useState } from 'react'
import { can, meQuery } from '@/api/auth'
import { errorMessage } from '@/api/errors'
import {
  useCreateWebhook,
  useDeleteWebhook,
  useRotateWebhookSecret,
  useUpdateWebhook,
  verifiersQuery,
  type Webhook,
  type WebhookCreated,
  webhooksQuery,
} from '@/api/triggers'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { CodeBlock } from '@/components/copy-button'
import { ErrorAlert } from '@/components/error-alert'
import { JsonSchemaForm, defaultValue, pruneEmpty, validate } from '@/components/json-schema-form'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '@/components/ui/dialog'
import { EmptyState } from '@/components/ui/empty-state'
import { Field, Input, NativeSelect } from '@/components/ui/input'
import { Skeleton, TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { toast } from '@/components/ui/toast'
import { SecretOnce } from '@/features/api-keys/create-api-key-dialog'
import { formatDateTime, formatRelative } from '@/lib/format'

export function WebhooksPage() {
  const { data: me } = useQuery(meQuery)
  const manage = can(me, 'manage')
  const webhooks = useQuery({ ...webhooksQuery, enabled: manage })
  const verifiers = useQuery({ ...verifiersQuery, enabled: manage })
  const update = useUpdateWebhook()
  const remove = useDeleteWebhook()
  const [deleting, setDeleting] = useState<Webhook | null>(null)
  const [rotating, setRotating] = useState<Webhook | null>(null)
  const verifierTitle = (name: string) => verifiers.data?.find((v) => v.name === name)?.title ?? name

  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Public URLs that verify deliveries from GitHub, Stripe and others and turn them into events."
        actions={manage ? <CreateWebhookDialog /> : null}
      />
      {!manage ? (
        <EmptyState icon={WebhookIcon} title="Only owners and admins manage webhooks">Events they receive are listed under Events.</EmptyState>
      ) : webhooks.isPending ? (
        <TableSkeleton columns={5} />
      ) : webhooks.isError ? (
        <ErrorAlert error={webhooks.error} title="Could not load webhooks" onRetry={() => void webhooks.refetch()} />
      ) : webhooks.data.items.length === 0 ? (
        <EmptyState icon={WebhookIcon} title="No webhooks yet" action={<CreateWebhookDialog />}>
          Create one, give its URL to the sender, and each verified delivery becomes an event that can start workflows.
        </EmptyState>
      ) : (
        <Table aria-label="Webhooks">
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>URL</TableHead>
              <TableHead>Event key</TableHead>
              <TableHead>Verifier</TableHead>
              <TableHead>Last delivery</TableHead>
              <TableHead className="sr-only">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {webhooks.data.items.map((hook) => (
              <TableRow key={hook.id}>
                <TableCell>
                  <span className="font-medium">{hook.name}</span>
                  {!hook.enabled ? <Badge variant="muted" className="ml-2">disabled</Badge> : null}
                </TableCell>
                <TableCell className="max-w-72"><code className="block truncate font-mono text-xs" title={hook.url}>{hook.url}</code></TableCell>
                <TableCell>
                  <code className="font-mono text-xs">{hook.event_key}</code>
                  {hook.key_expression ? <p className="text-xs text-muted-foreground">key from CEL</p> : null}
                </TableCell>
                <TableCell>{verifierTitle(hook.verifier)}</TableCell>
                <TableCell>
                  {hook.last_delivery_at ? <span title={formatDateTime(hook.last_delivery_at)}>{formatRelative(hook.last_delivery_at)}</span> : 'Never'}
                  {hook.failed_verifications > 0 ? (
                    <p className="text-xs text-destructive" title={hook.last_failure_reason ?? ''}>
                      {hook.failed_verifications} rejected{hook.last_failure_at ? `, last ${formatRelative(hook.last_failure_at)}` : ''}
                    </p>
                  ) : null}
                </TableCell>
                <TableCell>
                  <div className="flex justify-end gap-1">
                    <Button asChild variant="ghost" size="sm"><Link to="/events" search={{ webhook: hook.id }}>Events</Link></Button>
                    {hook.has_secret ? <Button variant="ghost" size="sm" onClick={() => setRotating(hook)}>Rotate secret</Button> : null}
                    <Button variant="ghost" size="sm" disabled={update.isPending}
                      onClick={() => update.mutate({ id: hook.id, enabled: !hook.enabled }, {
                        onError: (error) => toast('Could not update', { description: errorMessage(error), variant: 'error' }),
                      })}>
                      {hook.enabled ? 'Disable' : 'Enable'}
                    </Button>
                    <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setDeleting(hook)}>Delete</Button>
                  </div>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <RotateSecretDialog webhook={rotating} onClose={() => setRotating(null)} />
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => { if (!open) { setDeleting(null); remove.reset() } }}
        title={`Delete “${deleting?.name ?? ''}”?`}
        description="Its URL answers 404 from now on; the sender's deliveries are lost."
        confirmLabel="Delete webhook"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSuccess: () => { toast(`Deleted “${deleting.name}”`, { variant: 'success' }); setDeleting(null) } })}
      />
    </>
  )
}

function CreateWebhookDialog() {
  const [open, setOpen] = useState(false)
  const verifiers = useQuery({ ...verifiersQuery, enabled: open })
  const create = useCreateWebhook()
  const [name, setName] = useState('')
  const [eventKey, setEventKey] = useState('')
  const [verifier, setVerifier] = useState('')
  const [secret, setSecret] = useState('')
  const [config, setConfig] = useState<unknown>({})
  const [submitted, setSubmitted] = useState(false)
  const [created, setCreated] = useState<WebhookCreated | null>(null)
  const chosen = verifiers.data?.find((v) => v.name === verifier) ?? verifiers.data?.[0]
  const configErrors = chosen ? validate(chosen.config_schema, config) : {}
  const keyError = !eventKey.trim() ? 'Required.' : /\s|\*/.test(eventKey.trim()) ? 'No spaces or * in a key.' : undefined

  return (
    <Dialog open={open} onOpenChange={(next) => {
      setOpen(next)
      if (!next) { setName(''); setEventKey(''); setVerifier(''); setSecret(''); setConfig({}); setSubmitted(false); setCreated(null); create.reset() }
    }}>
      <DialogTrigger asChild><Button><PlusIcon /> Create webhook</Button></DialogTrigger>
      <DialogContent className="max-w-xl">
        {created ? (
          <>
            <DialogHeader>
              <DialogTitle>Webhook “{created.name}” created</DialogTitle>
              <DialogDescription>Give the sender this URL{created.secret ? ' and secret' : ''}.</DialogDescription>
            </DialogHeader>
            <CodeBlock code={created.url} label="Copy URL" />
            {created.secret ? <SecretOnce secret={created.secret} label="Copy secret" /> : null}
            <DialogFooter><Button onClick={() => setOpen(false)}>Done</Button></DialogFooter>
          </>
        ) : (
          <form className="grid gap-4" noValidate onSubmit={(e) => {
            e.preventDefault()
            setSubmitted(true)
            if (!chosen || !name.trim() || keyError || Object.keys(configErrors).length) return
            create.mutate(
              { name: name.trim(), event_key: eventKey.trim(), verifier: chosen.name, secret: secret.trim() || null,
                config: pruneEmpty(chosen.config_schema, config) as Record<string, unknown> },
              { onSuccess: setCreated },
            )
          }}>
            <DialogHeader>
              <DialogTitle>Create a webhook</DialogTitle>
              <DialogDescription>Each verified delivery becomes an event with this key; its JSON body is the payload.</DialogDescription>
            </DialogHeader>
            {create.error ? <ErrorAlert error={create.error} title="Could not create the webhook" /> : null}
            {verifiers.isError ? <ErrorAlert error={verifiers.error} title="Could not load verifiers" /> : null}
            <Field id="webhook-name" label="Name" required error={submitted && !name.trim() ? 'Required.' : undefined}>
              <Input id="webhook-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
            </Field>
            <Field id="webhook-key" label="Event key" required error={submitted ? keyError : undefined} hint="e.g. github:push">
              <Input id="webhook-key" value={eventKey} maxLength={255} onChange={(e) => setEventKey(e.target.value)} />
            </Field>
            {verifiers.isPending ? <Skeleton className="h-24" /> : chosen ? (
              <>
                <Field id="webhook-verifier" label="Verifier" hint="How Kiln checks a delivery really comes from the sender.">
                  <NativeSelect id="webhook-verifier" value={chosen.name} onChange={(e) => {
                    setVerifier(e.target.value)
                    const schema = verifiers.data?.find((v) => v.name === e.target.value)?.config_schema
                    setConfig(schema ? (defaultValue(schema) ?? {}) : {})
                  }}>
                    {verifiers.data?.map((v) => <option key={v.name} value={v.name}>{v.title}</option>)}
                  </NativeSelect>
                </Field>
                <Field id="webhook-secret" label="Secret" hint="Leave empty to have one generated (shown once).">
                  <Input id="webhook-secret" type="password" autoComplete="new-password" value={secret} maxLength={500}
                    onChange={(e) => setSecret(e.target.value)} />
                </Field>
                {Object.keys(chosen.config_schema.properties ?? {}).length ? (
                  <fieldset className="grid gap-3 rounded-lg border p-4">
                    <legend className="px-1 text-sm font-semibold">{chosen.title} settings</legend>
                    <JsonSchemaForm key={chosen.name} schema={chosen.config_schema} value={config} onChange={setConfig} showErrors={submitted} />
                  </fieldset>
                ) : null}
              </>
            ) : null}
            <DialogFooter>
              <Button variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
              <Button type="submit" disabled={create.isPending || !chosen}>{create.isPending ? 'Creating…' : 'Create webhook'}</Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  )
}

function RotateSecretDialog({ webhook, onClose }: { webhook: Webhook | null; onClose: () => void }) {
  const rotate = useRotateWebhookSecret()
  const [secret, setSecret] = useState<string | null>(null)
  const close = () => { setSecret(null); rotate.reset(); onClose() }
  return (
    <Dialog open={webhook !== null} onOpenChange={(open) => { if (!open) close() }}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Rotate the secret of “{webhook?.name}”</DialogTitle>
          <DialogDescription>
            {secret ? 'The new secret, shown once. The old one keeps working for an hour while you update the sender.' : 'Kiln generates a new secret; the old one keeps working for one hour.'}
          </DialogDescription>
        </DialogHeader>
        {rotate.error ? <ErrorAlert error={rotate.error} title="Could not rotate" /> : null}
        {secret ? <SecretOnce secret={secret} label="Copy secret" /> : null}
        <DialogFooter>
          {secret ? <Button onClick={close}>Done</Button> : (
            <>
              <Button variant="outline" onClick={close}>Cancel</Button>
              <Button disabled={rotate.isPending} onClick={() => webhook && rotate.mutate(webhook.id, { onSuccess: (r) => setSecret(r.secret) })}>
                {rotate.isPending ? 'Rotating…' : 'Rotate secret'}
              </Button>
            </>
          )}
        </DialogFooter>
      </DialogContent>
    </Dialog>
  )
}
