import { AlertTriangleIcon, LockIcon } from 'lucide-react'
import { ApiError, errorMessage } from '@/api/errors'
import { Button } from '@/components/ui/button'
import { cn } from '@/lib/utils'

/** A failed request, said plainly, with a retry when one makes sense. */
export function ErrorAlert({
  error,
  title,
  onRetry,
  className,
}: {
  error: unknown
  title?: string
  onRetry?: () => void
  className?: string
}) {
  const api = error instanceof ApiError ? error : undefined
  const forbidden = api?.isForbidden ?? false
  const Icon = forbidden ? LockIcon : AlertTriangleIcon
  const issues = api?.fieldIssues ?? []
  return (
    <div
      role="alert"
      className={cn(
        'flex items-start gap-3 rounded-lg border p-3 text-sm',
        forbidden ? 'border-warning/40 bg-warning/10' : 'border-destructive/40 bg-destructive/10',
        className,
      )}
    >
      <Icon className={cn('mt-0.5 size-4 shrink-0', forbidden ? 'text-warning' : 'text-destructive')} aria-hidden />
      <div className="grid flex-1 gap-1">
        <p className="font-medium">{title ?? (forbidden ? 'Not allowed' : 'Something went wrong')}</p>
        <p className="text-muted-foreground">{errorMessage(error)}</p>
        {issues.length > 1 ? (
          <ul className="list-disc pl-4 text-muted-foreground">
            {issues.map((issue, i) => (
              <li key={i}>
                {issue.key ? <code className="font-mono text-xs">{issue.key}</code> : null} {issue.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      {onRetry && !forbidden ? (
        <Button variant="outline" size="sm" onClick={onRetry}>
          Retry
        </Button>
      ) : null}
    </div>
  )
}
