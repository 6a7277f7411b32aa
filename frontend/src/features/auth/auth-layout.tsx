import { FlameIcon } from 'lucide-react'
import type * as React from 'react'
import { ThemeToggle } from '@/features/shell/app-shell'

/** The centred card that the logged-out pages (log in, sign up, accept invite) share. */
export function AuthLayout({ title, subtitle, children, footer }: {
  title: string
  subtitle?: React.ReactNode
  children: React.ReactNode
  footer?: React.ReactNode
}) {
  return (
    <div className="flex min-h-full flex-col items-center justify-center bg-muted/30 px-4 py-12">
      <div className="absolute top-4 right-4">
        <ThemeToggle />
      </div>
      <div className="mb-6 flex items-center gap-2">
        <FlameIcon className="size-7 text-primary" aria-hidden />
        <span className="text-xl font-semibold tracking-tight">Kiln</span>
      </div>
      <main className="w-full max-w-sm rounded-xl border bg-card p-6 shadow-sm">
        <h1 className="text-xl font-semibold">{title}</h1>
        {subtitle ? <p className="mt-1 text-sm text-muted-foreground">{subtitle}</p> : null}
        <div className="mt-6">{children}</div>
      </main>
      {footer ? <div className="mt-4 text-sm text-muted-foreground">{footer}</div> : null}
    </div>
  )
}

/** Only same-app paths are followed after logging in (no open redirect). */
export function safeRedirect(target: string | undefined, fallback = '/overview'): string {
  if (!target || !target.startsWith('/') || target.startsWith('//')) return fallback
  return target
}
