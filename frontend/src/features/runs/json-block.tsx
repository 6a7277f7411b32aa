import { CopyButton } from '@/components/copy-button'
import { cn } from '@/lib/utils'
import { prettyJson } from './json'

/** A JSON value (input, output, metadata), pretty-printed, scrollable, copyable. */
export function JsonBlock({ value, label, className, empty = 'Nothing' }: { value: unknown; label: string; className?: string; empty?: string }) {
  const text = value === null || value === undefined ? '' : prettyJson(value)
  return (
    <section className={cn('grid gap-1.5', className)} aria-label={label}>
      <div className="flex items-center justify-between">
        <h3 className="text-sm font-medium">{label}</h3>
        {text ? <CopyButton value={text} size="sm" variant="ghost" label="Copy" /> : null}
      </div>
      {text ? (
        <pre className="max-h-80 overflow-auto rounded-md border bg-muted/40 p-3 font-mono text-xs leading-relaxed">{text}</pre>
      ) : (
        <p className="text-sm text-muted-foreground">{empty}</p>
      )}
    </section>
  )
}

export function ErrorBlock({ error, traceback }: { error: string; traceback?: string | null }) {
  return (
    <div className="grid gap-2 rounded-md border border-destructive/40 bg-destructive/10 p-3">
      <p className="font-mono text-sm text-destructive">{error}</p>
      {traceback ? (
        <details>
          <summary className="cursor-pointer text-xs text-muted-foreground">Traceback</summary>
          <pre className="mt-2 max-h-80 overflow-auto font-mono text-xs leading-relaxed">{traceback}</pre>
        </details>
      ) : null}
    </div>
  )
}
