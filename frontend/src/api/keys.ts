/**
 * Every TanStack Query key in one place.
 *
 * Live updates work through these keys: the change stream (`live.ts`) names the runs that
 * changed and `cache.ts` invalidates or patches the entries under these keys — pages never hold
 * server state of their own, so whatever updates the cache re-renders them.
 */
export const keys = {
  me: ['me'] as const,
  apiKeys: {
    all: ['api-keys'] as const,
    list: () => [...keys.apiKeys.all, 'list'] as const,
  },
  members: {
    all: ['members'] as const,
    list: () => [...keys.members.all, 'list'] as const,
    invites: () => [...keys.members.all, 'invites'] as const,
  },
  audit: {
    all: ['audit'] as const,
    list: (action: string | undefined) => [...keys.audit.all, 'list', action ?? null] as const,
  },
  workflows: {
    all: ['workflows'] as const,
    list: () => [...keys.workflows.all, 'list'] as const,
    detail: (name: string) => [...keys.workflows.all, 'detail', name] as const,
  },
  runs: {
    all: ['runs'] as const,
    lists: () => [...keys.runs.all, 'list'] as const,
    list: (search: object) => [...keys.runs.lists(), search] as const,
    /** Per-status counts: not under `lists()`, whose entries are all pages of runs. */
    counts: (search: object) => [...keys.runs.all, 'counts', search] as const,
    allCounts: () => [...keys.runs.all, 'counts'] as const,
    detail: (id: string) => [...keys.runs.all, 'detail', id] as const,
    runLogs: (id: string) => [...keys.runs.all, 'logs', id] as const,
    logs: (id: string, task: string) => [...keys.runs.runLogs(id), task] as const,
  },
  limits: {
    all: ['limits'] as const,
    rate: () => [...keys.limits.all, 'rate'] as const,
    strategies: () => [...keys.limits.all, 'strategies'] as const,
    concurrency: () => [...keys.limits.all, 'concurrency'] as const,
  },
  retention: ['retention'] as const,
  stats: {
    all: ['stats'] as const,
    overview: (window: string) => [...keys.stats.all, 'overview', window] as const,
  },
  workers: {
    all: ['workers'] as const,
    list: () => [...keys.workers.all, 'list'] as const,
  },
  alerts: {
    all: ['alerts'] as const,
    channelTypes: () => [...keys.alerts.all, 'channel-types'] as const,
    channels: () => [...keys.alerts.all, 'channels'] as const,
    deliveries: (search: object) => [...keys.alerts.all, 'deliveries', search] as const,
  },
  events: {
    all: ['events'] as const,
    list: (search: object) => [...keys.events.all, 'list', search] as const,
  },
  webhooks: {
    all: ['webhooks'] as const,
    list: () => [...keys.webhooks.all, 'list'] as const,
    verifiers: () => [...keys.webhooks.all, 'verifiers'] as const,
  },
  schedules: {
    all: ['schedules'] as const,
    crons: () => [...keys.schedules.all, 'crons'] as const,
    oneOff: () => [...keys.schedules.all, 'one-off'] as const,
  },
}
