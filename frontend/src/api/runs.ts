import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query'
import { upsertRun } from '@/api/cache'
import { api, unwrap } from '@/api/client'
import { keys } from '@/api/keys'
import type { components } from '@/api/schema'
import { filtersToApiQuery, type RunsFilters, type RunsSearch, searchToFilters } from '@/features/runs/filters'

export type Run = components['schemas']['Run']
export type RunSummary = components['schemas']['RunSummary']
export type TaskState = components['schemas']['TaskState']
export type Attempt = components['schemas']['Attempt']
export type LogLine = components['schemas']['LogLine']

export const RUNS_PAGE_SIZE = 50
const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])

export function isFinished(status: string): boolean {
  return FINISHED.has(status)
}

/**
 * One page of runs. Until live updates arrive over SSE, the first page refreshes every few
 * seconds while the tab is visible; later pages stay put (their cursor is a fixed position).
 */
export function runsQuery(search: RunsSearch) {
  const filters: RunsFilters = searchToFilters(search as Record<string, unknown>)
  return queryOptions({
    queryKey: keys.runs.list(search),
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/runs', { params: { query: filtersToApiQuery(filters, RUNS_PAGE_SIZE) }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: filters.cursor ? false : 5_000,
  })
}

/** A run with its tasks; polled every 2 s until it finishes (SSE will replace the polling). */
export function runQuery(id: string) {
  return queryOptions({
    queryKey: keys.runs.detail(id),
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}', { params: { path: { run_id: id } }, signal })),
    refetchInterval: (query) => (query.state.data && isFinished(query.state.data.status) ? false : 2_000),
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
    refetchInterval: live ? 2_000 : false,
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

/** The newest `limit` runs (≤ 100), whatever their status: the overview's sample. */
export function latestRunsQuery(limit: number) {
  return queryOptions({
    queryKey: [...keys.runs.lists(), { latest: limit }],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs', { params: { query: { limit } }, signal })),
    refetchInterval: 10_000,
  })
}
