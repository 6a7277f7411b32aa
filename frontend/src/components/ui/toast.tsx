/**
 * Toasts: Radix Toast primitives (focus management, swipe, F8 to reach the viewport) fed by a
 * tiny store, so any code — including mutation callbacks outside React — can call `toast()`.
 */
import { XIcon } from 'lucide-react'
import { Toast as ToastPrimitive } from 'radix-ui'
import { useSyncExternalStore } from 'react'
import { cn } from '@/lib/utils'

export type ToastVariant = 'default' | 'success' | 'error'

export interface ToastItem {
  id: number
  title: string
  description?: string
  variant: ToastVariant
}

let nextId = 1
let items: ToastItem[] = []
const listeners = new Set<() => void>()

function emit() {
  for (const listener of listeners) listener()
}

export function toast(title: string, options: { description?: string; variant?: ToastVariant } = {}) {
  items = [...items, { id: nextId++, title, description: options.description, variant: options.variant ?? 'default' }]
  emit()
}

function dismiss(id: number) {
  items = items.filter((item) => item.id !== id)
  emit()
}

function subscribe(listener: () => void) {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function Toaster() {
  const current = useSyncExternalStore(subscribe, () => items)
  return (
    <ToastPrimitive.Provider swipeDirection="right" duration={5000}>
      {current.map((item) => (
        <ToastPrimitive.Root
          key={item.id}
          type={item.variant === 'error' ? 'foreground' : 'background'}
          onOpenChange={(open) => {
            if (!open) dismiss(item.id)
          }}
          className={cn(
            'group pointer-events-auto relative flex w-full items-start gap-3 rounded-lg border bg-popover p-4 pr-8 text-popover-foreground shadow-lg',
            item.variant === 'success' && 'border-success/40',
            item.variant === 'error' && 'border-destructive/50',
          )}
        >
          <div className="grid gap-1">
            <ToastPrimitive.Title
              className={cn('text-sm font-semibold', item.variant === 'error' && 'text-destructive')}
            >
              {item.title}
            </ToastPrimitive.Title>
            {item.description ? (
              <ToastPrimitive.Description className="text-sm text-muted-foreground">
                {item.description}
              </ToastPrimitive.Description>
            ) : null}
          </div>
          <ToastPrimitive.Close
            aria-label="Dismiss"
            className="absolute top-2 right-2 rounded-sm p-1 opacity-60 hover:opacity-100 focus-visible:ring-2 focus-visible:ring-ring"
          >
            <XIcon className="size-4" />
          </ToastPrimitive.Close>
        </ToastPrimitive.Root>
      ))}
      <ToastPrimitive.Viewport className="fixed right-0 bottom-0 z-[100] flex max-h-screen w-full flex-col gap-2 p-4 outline-none sm:max-w-sm" />
    </ToastPrimitive.Provider>
  )
}
