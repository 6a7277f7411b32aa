import {
  MutationCache,
  type Query,
  QueryCache,
  QueryClient,
  QueryClientProvider,
  type QueryKey,
} from '@tanstack/react-query'
import { RouterProvider } from '@tanstack/react-router'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { ApiError } from '@/api/errors'
import { Toaster } from '@/components/ui/toast'
import { watchSystemTheme } from '@/lib/theme'
import { createAppRouter } from '@/router'
import './index.css'

/** Client errors (4xx) will not fix themselves: retry only network and server failures. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false
  return failureCount < 2
}

let router: ReturnType<typeof createAppRouter>

/**
 * A query refused with 401 means the session ended: back to the login page, then here again.
 * Queries that expect to run logged out (the invite page asks "am I logged in?") opt out with
 * `meta: { anonymousOk: true }`.
 */
function onSessionLost(error: unknown, query: Query<unknown, unknown, unknown, QueryKey>) {
  if (!(error instanceof ApiError) || !error.isUnauthorized || query.meta?.anonymousOk) return
  const { pathname, href } = router.state.location
  if (pathname === '/login' || pathname === '/signup') return
  void router.navigate({ to: '/login', search: { redirect: href } })
}

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: onSessionLost }),
  mutationCache: new MutationCache(),
  defaultOptions: {
    queries: { retry: shouldRetry, staleTime: 10_000 },
  },
})
router = createAppRouter(queryClient)
watchSystemTheme()

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element')

createRoot(container).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
      <Toaster />
    </QueryClientProvider>
  </StrictMode>,
)
