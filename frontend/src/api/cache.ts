/**
 * Writes into the TanStack Query cache from outside a query function.
 *
 * Today mutations call these with what the server answered (a triggered run appears at once).
 * They are also the seam for live updates: a future SSE subscriber (one `EventSource` opened by
 * the app shell) will parse each event and call the same functions — a run changed →
 * `upsertRun`; anything it cannot patch precisely → `queryClient.invalidateQueries` on a key
 * from `keys.ts`. The polling intervals in `runs.ts` go away then.
 */
import type { QueryClient } from '@tanstack/react-query'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'

type Run = components['schemas']['Run']
type RunSummary = components['schemas']['RunSummary']
type RunsPage = components['schemas']['Page_app.domain.runs.schemas.RunSummary_']

export function toSummary(run: Run): RunSummary {
  const { tasks: _tasks, input: _input, output: _output, version: _version, ...summary } = run
  return summary
}

/**
 * Apply a run's new state: replace its detail entry, update it in every cached list page that
 * holds it, and mark the first pages of the lists stale so a new run shows up where it belongs
 * (whether it matches a page's filters is the server's call).
 */
export function upsertRun(queryClient: QueryClient, run: Run): void {
  queryClient.setQueryData(keys.runs.detail(run.id), run)
  const summary = toSummary(run)
  let found = false
  queryClient.setQueriesData<RunsPage>({ queryKey: keys.runs.lists() }, (page) => {
    if (!page?.items.some((item) => item.id === run.id)) return page
    found = true
    return { ...page, items: page.items.map((item) => (item.id === run.id ? { ...item, ...summary } : item)) }
  })
  if (!found) void queryClient.invalidateQueries({ queryKey: keys.runs.lists() })
}
