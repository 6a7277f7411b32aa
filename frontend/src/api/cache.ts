/**
 * Writes into the TanStack Query cache from outside a query function: mutations apply what the
 * server answered (`upsertRun`), and the live change stream (`live.ts`) applies what changed
 * elsewhere (`applyChange`).
 */
import type { QueryClient } from '@tanstack/react-query'
import { keys } from '@/api/keys'
import type { components, operations } from '@/api/schema'

type Run = components['schemas']['Run']
type RunSummary = components['schemas']['RunSummary']
type RunsPage = operations['listRuns']['responses'][200]['content']['application/json']

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

/** One `runs` event of `GET /api/v1/stream`: which runs changed (`null`: too many to list). */
export interface RunsChange {
  runs: string[] | null
  logs: boolean
}

/**
 * Apply a change from the stream. Events name runs, not their new state, so the affected
 * entries are invalidated: the ones on screen refetch at once, the others when next shown.
 * List refetches are coalesced by the caller (`refreshLists`), since one busy second can carry
 * hundreds of events.
 */
export function applyChange(queryClient: QueryClient, change: RunsChange, refreshLists: () => void): void {
  if (change.runs === null) {
    void queryClient.invalidateQueries({ queryKey: keys.runs.all })
    return
  }
  for (const id of change.runs) {
    void queryClient.invalidateQueries({ queryKey: keys.runs.detail(id) })
    if (change.logs) void queryClient.invalidateQueries({ queryKey: keys.runs.runLogs(id) })
  }
  if (change.runs.length) refreshLists()
}
