import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { upsertRun } from '@/api/cache'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import { isLive } from '@/api/live'
import type { components, operations } from '@/api/schema'
import {
  filtersToApiQuery,
  filtersToCountsQuery,
  type RunsFilters,
  type RunsSearch,
  searchToFilters,
} from '@/features/runs/filters'

export type Run = components['schemas']['Run']
export type RunSummary = components['schemas']['RunSummary']
export type TaskState = components['schemas']['TaskState']
// Derived, not named: the server's schema names collide across modules (alerts also have an Attempt).
export type Attempt = TaskState['attempts'][number]
export type LogLine = components['schemas']['LogLine']
export type RunsPage = operations['listRuns']['responses'][200]['content']['application/json']
export type Affected = components['schemas']['Affected']
export type RunCounts = components['schemas']['RunCounts']

export const RUNS_PAGE_SIZE = 50
const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])

export function isFinished(status: string): boolean {
  return FINISHED.has(status)
}

/**
 * One page of runs. The change stream (live.ts) keeps it fresh; without it, the first page is
 * polled every few seconds (later pages stay put: their cursor is a fixed position).
 */
export function runsQuery(search: RunsSearch) {
  const filters: RunsFilters = searchToFilters(search as Record<string, unknown>)
  return queryOptions({
    queryKey: keys.runs.list(search),
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/runs', { params: { query: filtersToApiQuery(filters, RUNS_PAGE_SIZE) }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: () => (filters.cursor || isLive() ? false : 5_000),
  })
}

/** Runs per status under the page's other filters (status and cursor do not change them). */
export function runCountsQuery(search: RunsSearch) {
  const { status: _status, cursor: _cursor, ...rest } = search
  const filters = searchToFilters(rest as Record<string, unknown>)
  return queryOptions({
    queryKey: keys.runs.counts(rest),
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/runs/counts', { params: { query: filtersToCountsQuery(filters) }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: () => (isLive() ? false : 5_000),
  })
}

/** A run with its tasks: live through the change stream, else polled every 2 s until it finishes. */
export function runQuery(id: string) {
  return queryOptions({
    queryKey: keys.runs.detail(id),
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}', { params: { path: { run_id: id } }, signal })),
    refetchInterval: (query) => (isLive() || (query.state.data && isFinished(query.state.data.status)) ? false : 2_000),
  })
}

export function taskLogsQuery(runId: string, task: string, live: boolean) {
  return queryOptions({
    queryKey: keys.runs.logs(runId, task),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/runs/{run_id}/tasks/{task}/logs', {
          params: { path: { run_id: runId, task }, query: { limit: 100 } },
          signal,
        }),
      ),
    refetchInterval: () => (live && !isLive() ? 2_000 : false),
  })
}

export interface TriggerRunInput {
  workflow: string
  input: unknown
  metadata?: Record<string, unknown>
  priority?: number
  idempotencyKey?: string
}

export function useTriggerRun() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: ({ workflow, input, metadata, priority, idempotencyKey }: TriggerRunInput) =>
      unwrap(
        api.POST('/api/v1/workflows/{name}/runs', {
          params: {
            path: { name: workflow },
            ...(idempotencyKey ? { header: { 'Idempotency-Key': idempotencyKey } } : {}),
          },
          body: { input, ...(metadata ? { metadata } : {}), ...(priority ? { priority } : {}) },
        }),
      ),
    onSuccess: (run) => upsertRun(queryClient, run),
  })
}

export function useCancelRun() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/runs/{run_id}/cancel', { params: { path: { run_id: id } } })),
    onSuccess: (run) => upsertRun(queryClient, run),
  })
}

/** Re-run a finished run: whole, or from one task on (that task and its descendants). */
export function useReplayRun() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: ({ id, fromTask }: { id: string; fromTask?: string }) =>
      unwrap(
        api.POST('/api/v1/runs/{run_id}/replay', {
          params: { path: { run_id: id } },
          body: fromTask ? { from_task: fromTask } : null,
        }),
      ),
    onSuccess: (run) => upsertRun(queryClient, run),
  })
}

/** Bulk actions on selected runs; the answer says which runs it applied to and which it skipped. */
export function useBulkRunAction(action: 'cancel' | 'replay') {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (ids: string[]) =>
      unwrap(
        action === 'cancel'
          ? api.POST('/api/v1/runs/cancel', { body: { ids } })
          : api.POST('/api/v1/runs/replay', { body: { ids } }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.runs.all }),
  })
}
