import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Link, Outlet, useNavigate } from '@tanstack/react-router'
import {
  CheckIcon,
  ChevronsUpDownIcon,
  FlameIcon,
  LogOutIcon,
  MenuIcon,
  MonitorIcon,
  MoonIcon,
  SunIcon,
  XIcon,
} from 'lucide-react'
import { useEffect, useState } from 'react'
import { type Me, meQuery, useLogout, useSwitchTenant } from '@/api/auth'
import { errorMessage } from '@/api/errors'
import { type LiveState, startLiveUpdates, useLiveState } from '@/api/live'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuRadioGroup,
  DropdownMenuRadioItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu'
import { toast } from '@/components/ui/toast'
import { type ThemeChoice, useTheme } from '@/lib/theme'
import { cn } from '@/lib/utils'
import { NAV } from './nav'

export function AppShell() {
  const { data: me } = useQuery(meQuery)
  const [navOpen, setNavOpen] = useState(false)
  const queryClient = useQueryClient()
  const tenantId = me?.tenant.id
  // One change stream per tenant session: reopened when the tenant changes, closed on logout.
  useEffect(() => (tenantId ? startLiveUpdates(queryClient) : undefined), [queryClient, tenantId])
  return (
    <div className="flex h-full">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-[60] focus:rounded-md focus:bg-background focus:px-3 focus:py-2 focus:shadow"
      >
        Skip to content
      </a>
      {navOpen ? (
        <div className="fixed inset-0 z-30 bg-black/40 md:hidden" onClick={() => setNavOpen(false)} aria-hidden />
      ) : null}
      <aside
        className={cn(
          'fixed inset-y-0 left-0 z-40 flex w-64 shrink-0 flex-col border-r bg-sidebar transition-transform md:static md:translate-x-0',
          navOpen ? 'translate-x-0' : '-translate-x-full',
        )}
        aria-label="Main navigation"
      >
        <div className="flex h-14 items-center gap-2 px-4">
          <FlameIcon className="size-5 text-primary" aria-hidden />
          <span className="font-semibold tracking-tight">Kiln</span>
          <LiveIndicator />
          <Button variant="ghost" size="icon-sm" className="md:hidden" onClick={() => setNavOpen(false)} aria-label="Close navigation">
            <XIcon />
          </Button>
        </div>
        <div className="px-3 pb-3">{me ? <TenantSwitcher me={me} /> : null}</div>
        <nav className="flex-1 overflow-y-auto px-3 pb-4">
          {NAV.map((group) => (
            <div key={group.label} className="mb-4">
              <p className="px-2 pb-1 text-xs font-medium text-muted-foreground">{group.label}</p>
              <ul className="grid gap-0.5">
                {group.items.map((item) => (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      onClick={() => setNavOpen(false)}
                      className="flex items-center gap-2 rounded-md px-2 py-1.5 text-sm text-muted-foreground transition-colors hover:bg-accent hover:text-accent-foreground focus-visible:ring-2 focus-visible:ring-ring"
                      activeProps={{ className: 'bg-accent !text-foreground font-medium', 'aria-current': 'page' }}
                    >
                      <item.icon className="size-4" aria-hidden />
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <div className="border-t p-3">{me ? <UserMenu me={me} /> : null}</div>
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-14 items-center gap-2 border-b px-4 md:hidden">
          <Button variant="ghost" size="icon-sm" onClick={() => setNavOpen(true)} aria-label="Open navigation">
            <MenuIcon />
          </Button>
          <FlameIcon className="size-5 text-primary" aria-hidden />
          <span className="font-semibold">Kiln</span>
        </header>
        <main id="main" className="flex-1 overflow-y-auto" tabIndex={-1}>
          <div className="mx-auto w-full max-w-7xl p-6 lg:p-8">
            <Outlet />
          </div>
        </main>
      </div>
    </div>
  )
}

function TenantSwitcher({ me }: { me: Me }) {
  const switchTenant = useSwitchTenant()
  const navigate = useNavigate()
  const tenants = me.tenants ?? []
  const others = tenants.filter((m) => m.tenant.id !== me.tenant.id)
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="outline" className="w-full justify-between px-3" aria-label={`Tenant: ${me.tenant.name}. Switch tenant`}>
          <span className="truncate" data-testid="current-tenant">{me.tenant.name}</span>
          <ChevronsUpDownIcon className="opacity-60" />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="w-60">
        <DropdownMenuLabel>Tenants</DropdownMenuLabel>
        {tenants.map((membership) => {
          const current = membership.tenant.id === me.tenant.id
          return (
            <DropdownMenuItem
              key={membership.tenant.id}
              disabled={switchTenant.isPending}
              onSelect={() => {
                if (current) return
                // mutateAsync, not mutate(…, callbacks): the new session resets `me`, which
                // unmounts this menu before per-call callbacks would run.
                switchTenant
                  .mutateAsync(membership.tenant.id)
                  .then(() => {
                    toast(`Switched to ${membership.tenant.name}`, { variant: 'success' })
                    void navigate({ to: '/overview' })
                  })
                  .catch((error: unknown) =>
                    toast('Could not switch tenant', { description: errorMessage(error), variant: 'error' }),
                  )
              }}
            >
              <CheckIcon className={cn(!current && 'invisible')} />
              <span className="flex-1 truncate">{membership.tenant.name}</span>
              <Badge variant="muted">{membership.role}</Badge>
            </DropdownMenuItem>
          )
        })}
        {others.length === 0 ? (
          <p className="px-2 py-1.5 text-xs text-muted-foreground">
            You belong to one tenant. Accept an invite to join another.
          </p>
        ) : null}
      </DropdownMenuContent>
    </DropdownMenu>
  )
}

const THEMES: { value: ThemeChoice; label: string; icon: typeof SunIcon }[] = [
  { value: 'light', label: 'Light', icon: SunIcon },
  { value: 'dark', label: 'Dark', icon: MoonIcon },
  { value: 'system', label: 'System', icon: MonitorIcon },
]

function UserMenu({ me }: { me: Me }) {
  const logout = useLogout()
  const navigate = useNavigate()
  const { choice, setChoice } = useTheme()
  const label = me.user?.name || me.user?.email || 'API key'
  return (
    <div className="flex items-center gap-1">
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <Button variant="ghost" className="min-w-0 flex-1 justify-start px-2" aria-label="Account menu">
            <span className="flex size-7 shrink-0 items-center justify-center rounded-full bg-primary/15 text-xs font-semibold text-primary">
              {label.slice(0, 1).toUpperCase()}
            </span>
            <span className="grid min-w-0 text-left leading-tight">
              <span className="truncate text-sm">{label}</span>
              <span className="truncate text-xs text-muted-foreground">{me.role ?? me.kind}</span>
            </span>
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="start" side="top" className="w-56">
          <DropdownMenuLabel className="truncate">{me.user?.email}</DropdownMenuLabel>
          <DropdownMenuSeparator />
          <DropdownMenuLabel>Theme</DropdownMenuLabel>
          <DropdownMenuRadioGroup value={choice} onValueChange={(value) => setChoice(value as ThemeChoice)}>
            {THEMES.map((theme) => (
              <DropdownMenuRadioItem key={theme.value} value={theme.value}>
                <theme.icon /> {theme.label}
              </DropdownMenuRadioItem>
            ))}
          </DropdownMenuRadioGroup>
          <DropdownMenuSeparator />
          <DropdownMenuItem
            onSelect={() =>
              // Clearing the cache unmounts this menu: continue from the promise, not a callback.
              void logout
                .mutateAsync()
                .catch(() => undefined)
                .then(() => navigate({ to: '/login', search: { redirect: undefined } }))
            }
          >
            <LogOutIcon /> Log out
          </DropdownMenuItem>
        </DropdownMenuContent>
      </DropdownMenu>
      <ThemeToggle />
    </div>
  )
}

/** One-click light/dark switch (the account menu also offers "system"). */
export function ThemeToggle() {
  const { resolved, setChoice } = useTheme()
  const next = resolved === 'dark' ? 'light' : 'dark'
  return (
    <Button variant="ghost" size="icon-sm" onClick={() => setChoice(next)} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`}>
      {resolved === 'dark' ? <SunIcon /> : <MoonIcon />}
    </Button>
  )
}

const LIVE_LABEL: Record<LiveState, { text: string; dot: string; title: string }> = {
  live: { text: 'Live', dot: 'bg-success', title: 'Runs update as they change' },
  connecting: { text: 'Reconnecting', dot: 'bg-warning animate-pulse', title: 'The live stream dropped; refreshing every few seconds meanwhile' },
  off: { text: 'Polling', dot: 'bg-muted-foreground', title: 'No live stream; refreshing every few seconds' },
}

function LiveIndicator() {
  const state = useLiveState()
  const label = LIVE_LABEL[state]
  return (
    <span className="ml-auto flex items-center gap-1.5 text-xs text-muted-foreground md:ml-auto" title={label.title}
      data-testid="live-state" data-state={state}>
      <span className={cn('size-2 rounded-full', label.dot)} aria-hidden />
      {label.text}
    </span>
  )
}
