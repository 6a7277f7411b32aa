import { useQuery } from '@tanstack/react-query'
import { KeyRoundIcon, PlusIcon } from 'lucide-react'
import { useState } from 'react'
import { type ApiKey, apiKeysQuery, useRevokeApiKey } from '@/api/api-keys'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { EmptyState } from '@/components/ui/empty-state'
import { TableSkeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { toast } from '@/components/ui/toast'
import { formatDateTime, formatRelative } from '@/lib/format'
import { CreateApiKeyDialog } from './create-api-key-dialog'

export function keyStatus(key: ApiKey, now: number = Date.now()): 'active' | 'revoked' | 'expired' {
  if (key.revoked_at) return 'revoked'
  if (key.expires_at && new Date(key.expires_at).getTime() <= now) return 'expired'
  return 'active'
}

export function ApiKeysPage() {
  const keysQuery = useQuery(apiKeysQuery)
  const [creating, setCreating] = useState(false)
  const [revoking, setRevoking] = useState<ApiKey | null>(null)
  const revoke = useRevokeApiKey()
  const items = keysQuery.data?.items ?? []

  const createButton = (
    <Button onClick={() => setCreating(true)}>
      <PlusIcon /> Create API key
    </Button>
  )

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys authenticate workers, scripts and CI against this tenant. Secrets are shown once, when created."
        actions={keysQuery.isSuccess ? createButton : null}
      />
      {keysQuery.isPending ? (
        <TableSkeleton columns={5} />
      ) : keysQuery.isError ? (
        <ErrorAlert error={keysQuery.error} title="Could not load API keys" onRetry={() => void keysQuery.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState icon={KeyRoundIcon} title="No API keys yet" action={createButton}>
          Create a key with the <strong>worker</strong> scope for your first worker, or follow the Get started page.
        </EmptyState>
      ) : (
        <Table aria-label="API keys">
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>Key</TableHead>
              <TableHead>Scopes</TableHead>
              <TableHead>Created</TableHead>
              <TableHead>Last used</TableHead>
              <TableHead>Expires</TableHead>
              <TableHead>Status</TableHead>
              <TableHead className="sr-only">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((key) => {
              const status = keyStatus(key)
              return (
                <TableRow key={key.id} data-testid="api-key-row">
                  <TableCell className="font-medium">{key.name}</TableCell>
                  <TableCell><code className="font-mono text-xs text-muted-foreground">{key.prefix}…</code></TableCell>
                  <TableCell>
                    <div className="flex flex-wrap gap-1">
                      {key.scopes.map((scope) => <Badge key={scope} variant="secondary">{scope}</Badge>)}
                    </div>
                  </TableCell>
                  <TableCell title={formatDateTime(key.created_at)}>{formatRelative(key.created_at)}</TableCell>
                  <TableCell title={formatDateTime(key.last_used_at)}>{key.last_used_at ? formatRelative(key.last_used_at) : 'Never'}</TableCell>
                  <TableCell title={formatDateTime(key.expires_at)}>{key.expires_at ? formatRelative(key.expires_at) : 'Never'}</TableCell>
                  <TableCell>
                    <Badge variant={status === 'active' ? 'success' : 'muted'}>{status}</Badge>
                  </TableCell>
                  <TableCell className="text-right">
                    {status === 'active' ? (
                      <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setRevoking(key)}>
                        Revoke
                      </Button>
                    ) : null}
                  </TableCell>
                </TableRow>
              )
            })}
          </TableBody>
        </Table>
      )}
      {keysQuery.data?.next_cursor ? (
        <p className="mt-3 text-sm text-muted-foreground">Showing the newest 100 keys.</p>
      ) : null}
      <CreateApiKeyDialog open={creating} onOpenChange={setCreating} />
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => {
          if (!open) {
            setRevoking(null)
            revoke.reset()
          }
        }}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        description="Anything using this key — workers, scripts, CI — is refused from now on. This cannot be undone."
        confirmLabel="Revoke key"
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() => {
          if (!revoking) return
          revoke.mutate(revoking.id, {
            onSuccess: () => {
              toast(`Revoked “${revoking.name}”`, { variant: 'success' })
              setRevoking(null)
            },
          })
        }}
      />
    </>
  )
}
