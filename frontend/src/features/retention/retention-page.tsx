import { useQuery } from '@tanstack/react-query'
import { can, meQuery } from '@/api/auth'
import { retentionQuery, usePutRetention } from '@/api/retention'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import { Skeleton } from '@/components/ui/skeleton'
import { toast } from '@/components/ui/toast'
import { daysHint, formatDays } from './retention-draft'
import { RetentionForm } from './retention-form'

/** How long the tenant's finished runs are kept (`/api/v1/retention`, docs/dashboard.md). */
export function RetentionPage() {
  const { data: me } = useQuery(meQuery)
  const manage = can(me, 'manage')
  const retention = useQuery(retentionQuery)
  const put = usePutRetention()

  return (
    <>
      <PageHeader
        title="Data retention"
        description="How long a run — with its tasks, attempts and logs — is kept after it finishes. The server deletes older ones within minutes; runs still queued or running are never removed."
      />
      {retention.isPending ? (
        <div className="grid max-w-xl gap-3" role="status" aria-label="Loading retention">
          <Skeleton className="h-24 w-full" />
          <Skeleton className="h-32 w-full" />
        </div>
      ) : retention.isError ? (
        <ErrorAlert error={retention.error} title="Could not load the retention" onRetry={() => void retention.refetch()} />
      ) : (
        <div className="grid max-w-xl gap-4">
          <Card>
            <CardHeader>
              <CardTitle>Finished runs are kept for</CardTitle>
            </CardHeader>
            <CardContent>
              <p className="text-2xl font-semibold tabular-nums" data-testid="retention-current">
                {formatDays(retention.data.run_retention_days)}
              </p>
              {daysHint(retention.data.run_retention_days) ? (
                <p className="text-sm text-muted-foreground" data-testid="retention-hint">
                  {daysHint(retention.data.run_retention_days)}
                </p>
              ) : null}
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>Change it</CardTitle>
              <CardDescription>
                A shorter time takes effect at the next cleanup: runs older than it are deleted for good.
              </CardDescription>
            </CardHeader>
            <CardContent>
              {manage ? (
                <RetentionForm
                  initial={retention.data.run_retention_days}
                  pending={put.isPending}
                  error={put.error}
                  saved={put.data?.run_retention_days ?? null}
                  onEdit={() => { if (put.isError || put.isSuccess) put.reset() }}
                  onSubmit={(days) => put.mutate(days, {
                    onSuccess: (stored) => toast(`Finished runs are now kept for ${formatDays(stored.run_retention_days)}`, { variant: 'success' }),
                  })}
                />
              ) : (
                <p className="rounded-lg border bg-muted/40 p-3 text-sm text-muted-foreground">
                  {me?.role ? <>You are a <strong>{me.role}</strong> here: only</> : 'Only'} owners and admins can change how long runs are kept.
                </p>
              )}
            </CardContent>
          </Card>
        </div>
      )}
    </>
  )
}
