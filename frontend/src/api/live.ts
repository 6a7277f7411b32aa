/**
 * Live updates over Server-Sent Events (`GET /api/v1/stream`, cookie-authenticated).
 *
 * One EventSource per logged-in tab, opened by the app shell for the current tenant. Each `runs`
 * event invalidates the affected cache entries (`cache.applyChange`) and, coalesced, the lists,
 * counts, workers (slots in use), limits and stats; a `workers` event (a worker registered,
 * stopped or was lost) refreshes the workers; `reset` (the server lost our place) refreshes
 * everything live. While the stream is up, the polling intervals of
 * runs.ts switch off (`isLive()`); when it drops, they resume until EventSource reconnects.
 */
import type { QueryClient } from '@tanstack/react-query'
import { useSyncExternalStore } from 'react'
import { applyChange, type RunsChange } from '@/api/cache'
import { apiBaseUrl } from '@/api/client'
import { keys } from '@/api/keys'

export type LiveState = 'off' | 'connecting' | 'live'

let state: LiveState = 'off'
const listeners = new Set<() => void>()

function setState(next: LiveState) {
  if (next === state) return
  state = next
  for (const listener of listeners) listener()
}

/** True while change events arrive: polling is then redundant. */
export function isLive(): boolean {
  return state === 'live'
}

export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => state,
  )
}

/** Run `fn` at most once per `ms`, trailing (the last call always runs). */
export function throttle(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = 0
  return () => {
    if (timer) return
    const wait = Math.max(0, last + ms - Date.now())
    timer = setTimeout(() => {
      timer = undefined
      last = Date.now()
      fn()
    }, wait)
  }
}

/** Open the stream; returns the function that closes it. */
export function startLiveUpdates(queryClient: QueryClient, url = `${apiBaseUrl}/api/v1/stream`): () => void {
  if (typeof EventSource === 'undefined') return () => {}
  const source = new EventSource(url, { withCredentials: true })
  const refreshLists = throttle(() => {
    void queryClient.invalidateQueries({ queryKey: keys.runs.lists() })
    void queryClient.invalidateQueries({ queryKey: keys.runs.allCounts() })
    void queryClient.invalidateQueries({ queryKey: keys.limits.all }) // claims use up limits
    void queryClient.invalidateQueries({ queryKey: keys.workers.all }) // and worker slots
  }, 1000)
  // Percentiles over a window move slowly and cost more to compute: at most one refresh per 5 s.
  const refreshStats = throttle(() => void queryClient.invalidateQueries({ queryKey: keys.stats.all }), 5000)
  setState('connecting')

  source.addEventListener('ready', () => setState('live'))
  source.addEventListener('runs', (event) => {
    try {
      const change = JSON.parse((event as MessageEvent<string>).data) as RunsChange
      applyChange(queryClient, { runs: change.runs ?? null, logs: Boolean(change.logs) }, refreshLists)
      refreshStats()
    } catch {
      // A malformed event is ignored; the next one (or polling) catches up.
    }
  })
  source.addEventListener('workers', () => void queryClient.invalidateQueries({ queryKey: keys.workers.all }))
  const refreshEverything = () => {
    for (const queryKey of [keys.runs.all, keys.workers.all, keys.limits.all, keys.stats.all]) {
      void queryClient.invalidateQueries({ queryKey })
    }
  }
  source.addEventListener('reset', refreshEverything)
  source.onerror = () => {
    const wasLive = state === 'live'
    // EventSource retries by itself (server-sent `retry`); CLOSED means it gave up (e.g. 401).
    setState(source.readyState === EventSource.CLOSED ? 'off' : 'connecting')
    // Refetching re-evaluates each query's interval: polling resumes while the stream is down.
    if (wasLive) refreshEverything()
  }
  return () => {
    source.close()
    setState('off')
  }
}
