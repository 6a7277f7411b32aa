import { cva, type VariantProps } from 'class-variance-authority'
import type * as React from 'react'
import { cn } from '@/lib/utils'

export const badgeVariants = cva(
  'inline-flex items-center gap-1 whitespace-nowrap rounded-md border px-2 py-0.5 text-xs font-medium',
  {
    variants: {
      variant: {
        default: 'border-transparent bg-primary text-primary-foreground',
        secondary: 'border-transparent bg-secondary text-secondary-foreground',
        outline: 'text-foreground',
        success: 'border-success/30 bg-success/15 text-success',
        warning: 'border-warning/40 bg-warning/15 text-warning',
        info: 'border-info/30 bg-info/15 text-info',
        destructive: 'border-destructive/30 bg-destructive/15 text-destructive',
        muted: 'border-transparent bg-muted text-muted-foreground',
        skipped: 'border-dashed border-skipped/50 bg-skipped/10 text-skipped',
      },
    },
    defaultVariants: { variant: 'default' },
  },
)

export function Badge({
  className,
  variant,
  ...props
}: React.ComponentProps<'span'> & VariantProps<typeof badgeVariants>) {
  return <span data-slot="badge" className={cn(badgeVariants({ variant }), className)} {...props} />
}
