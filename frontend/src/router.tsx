/**
 * The route tree (code-based). Logged-in pages live under the pathless `app` route, whose
 * `beforeLoad` loads `/api/v1/me` and sends anonymous visitors to /login?redirect=….
 * Pages are lazy chunks, so the DAG and chart libraries load only where they are used.
 */
import type { QueryClient } from '@tanstack/react-query'
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  type ErrorComponentProps,
  lazyRouteComponent,
  Outlet,
  redirect,
} from '@tanstack/react-router'
import { meQuery } from '@/api/auth'
import { runQuery, runsQuery } from '@/api/runs'
import { parseWindow, type StatsWindow } from '@/api/stats'
import { ApiError } from '@/api/errors'
import { ErrorAlert } from '@/components/error-alert'
import { Skeleton } from '@/components/ui/skeleton'
import { parseAlertsSearch } from '@/features/alerts/search'
import { parseEventsSearch } from '@/features/events/search'
import { validateAuditSearch } from '@/features/audit/search'
import { parseRunSearch, parseRunsSearch } from '@/features/runs/filters'
import { LoginPage } from '@/features/auth/login-page'
import { SignupPage } from '@/features/auth/signup-page'
import { NotFoundPage } from '@/features/not-found'
import { AppShell } from '@/features/shell/app-shell'

export interface RouterContext {
  queryClient: QueryClient
}

function RouteError({ error, reset }: ErrorComponentProps) {
  return <ErrorAlert className="m-6" error={error} onRetry={reset} />
}

function PagePending() {
  return (
    <div className="grid gap-4" role="status" aria-label="Loading page">
      <Skeleton className="h-8 w-64" />
      <Skeleton className="h-4 w-96" />
      <Skeleton className="h-64 w-full" />
    </div>
  )
}

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFoundPage,
})

const redirectSearch = (search: Record<string, unknown>): { redirect?: string } => ({
  redirect: typeof search.redirect === 'string' ? search.redirect : undefined,
})

const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  validateSearch: redirectSearch,
  component: LoginPage,
})

const signupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/signup',
  component: SignupPage,
})

const inviteRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/invite',
  validateSearch: (search: Record<string, unknown>): { token?: string } => ({
    token: typeof search.token === 'string' && search.token ? search.token : undefined,
  }),
  component: lazyRouteComponent(() => import('@/features/auth/invite-page'), 'InvitePage'),
})

const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'app',
  beforeLoad: async ({ context, location }) => {
    try {
      const me = await context.queryClient.ensureQueryData(meQuery)
      return { me }
    } catch (error) {
      if (error instanceof ApiError && error.isUnauthorized) {
        throw redirect({ to: '/login', search: { redirect: location.href } })
      }
      throw error
    }
  },
  component: AppShell,
  errorComponent: RouteError,
})

const indexRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/overview' })
  },
})

const onboardingRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/onboarding',
  component: lazyRouteComponent(() => import('@/features/onboarding/onboarding-page'), 'OnboardingPage'),
})

const apiKeysRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/settings/api-keys',
  component: lazyRouteComponent(() => import('@/features/api-keys/api-keys-page'), 'ApiKeysPage'),
})

const membersRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/settings/members',
  component: lazyRouteComponent(() => import('@/features/members/members-page'), 'MembersPage'),
})

const auditRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/settings/audit',
  validateSearch: validateAuditSearch,
  component: lazyRouteComponent(() => import('@/features/audit/audit-page'), 'AuditPage'),
})

const retentionRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/settings/retention',
  component: lazyRouteComponent(() => import('@/features/retention/retention-page'), 'RetentionPage'),
})

const overviewRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/overview',
  validateSearch: (search: Record<string, unknown>): { window?: StatsWindow } => ({ window: parseWindow(search.window) }),
  component: lazyRouteComponent(() => import('@/features/overview/overview-page'), 'OverviewPage'),
})
const runsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/runs',
  validateSearch: parseRunsSearch,
  // Start fetching while the page's code loads; the page reads the same cache entry.
  loaderDeps: ({ search }) => search,
  loader: ({ context, deps }) => void context.queryClient.prefetchQuery(runsQuery(deps)),
  component: lazyRouteComponent(() => import('@/features/runs/runs-page'), 'RunsPage'),
})

const runRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/runs/$runId',
  validateSearch: parseRunSearch,
  loader: ({ context, params }) => void context.queryClient.prefetchQuery(runQuery(params.runId)),
  component: lazyRouteComponent(() => import('@/features/runs/run-detail-page'), 'RunDetailPage'),
})

const workflowsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/workflows',
  component: lazyRouteComponent(() => import('@/features/workflows/workflows-page'), 'WorkflowsPage'),
})

const workflowRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/workflows/$name',
  component: lazyRouteComponent(() => import('@/features/workflows/workflow-detail-page'), 'WorkflowDetailPage'),
})

const workersRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/workers',
  component: lazyRouteComponent(() => import('@/features/workers/workers-page'), 'WorkersPage'),
})
const eventsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/events',
  validateSearch: parseEventsSearch,
  component: lazyRouteComponent(() => import('@/features/events/events-page'), 'EventsPage'),
})

const webhooksRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/webhooks',
  component: lazyRouteComponent(() => import('@/features/webhooks/webhooks-page'), 'WebhooksPage'),
})

const schedulesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/schedules',
  validateSearch: (search: Record<string, unknown>): { tab?: 'crons' | 'once' } => ({
    tab: search.tab === 'crons' || search.tab === 'once' ? search.tab : undefined,
  }),
  component: lazyRouteComponent(() => import('@/features/schedules/schedules-page'), 'SchedulesPage'),
})
const limitsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/limits',
  component: lazyRouteComponent(() => import('@/features/limits/limits-page'), 'LimitsPage'),
})
const alertsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/alerts',
  validateSearch: parseAlertsSearch,
  component: lazyRouteComponent(() => import('@/features/alerts/alerts-page'), 'AlertsPage'),
})

const routeTree = rootRoute.addChildren([
  loginRoute,
  signupRoute,
  inviteRoute,
  appRoute.addChildren([
    indexRoute,
    onboardingRoute,
    apiKeysRoute,
    membersRoute,
    auditRoute,
    retentionRoute,
    overviewRoute,
    runsRoute,
    runRoute,
    workflowsRoute,
    workflowRoute,
    workersRoute,
    eventsRoute,
    webhooksRoute,
    schedulesRoute,
    limitsRoute,
    alertsRoute,
  ]),
])

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({
    routeTree,
    context: { queryClient },
    defaultPreload: 'intent',
    // Data freshness is TanStack Query's job; the router only sequences loading.
    defaultPreloadStaleTime: 0,
    defaultPendingComponent: PagePending,
    defaultErrorComponent: RouteError,
    scrollRestoration: true,
  })
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>
  }
}
