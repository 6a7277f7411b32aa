/**
 * The rate-limit form's state, its checks and the PUT body it becomes. Pure and unit-tested;
 * the server checks again (a 422 is shown as is).
 */
import type { RateLimit, RateLimitPut, RateWindow } from '@/api/limits'
import type { JsonSchema } from '@/lib/json-schema'

export const WINDOWS: RateWindow[] = ['second', 'minute', 'hour', 'day']
export const MAX_LIMIT = 1_000_000_000

export interface RateLimitDraft {
  key: string
  /** As typed: validated into an integer on submit. */
  limit: string
  window: RateWindow
  /** '' = the tenant's default strategy. */
  strategy: string
  config: Record<string, unknown>
}

export type DraftErrors = Partial<Record<'key' | 'limit', string>>

export function emptyDraft(): RateLimitDraft {
  return { key: '', limit: '', window: 'minute', strategy: '', config: {} }
}

function isWindow(value: string | null): value is RateWindow {
  return value !== null && (WINDOWS as string[]).includes(value)
}

/** An existing limit as the form's starting point (a dynamic key without a limit starts empty). */
export function draftFrom(limit: RateLimit): RateLimitDraft {
  return {
    key: limit.key,
    limit: limit.limit === null ? '' : String(limit.limit),
    window: isWindow(limit.window) ? limit.window : 'minute',
    strategy: limit.source === 'api' ? limit.strategy : '',
    config: { ...limit.config },
  }
}

export function validateDraft(draft: RateLimitDraft): DraftErrors {
  const errors: DraftErrors = {}
  const key = draft.key.trim()
  if (!key) errors.key = 'Give the key tasks name in their rate_limits.'
  else if (key.length > 255) errors.key = 'At most 255 characters.'
  const raw = draft.limit.trim()
  const limit = Number(raw)
  if (!raw) errors.limit = 'How many units may pass per window?'
  else if (!/^\d+$/.test(raw) || !Number.isSafeInteger(limit)) errors.limit = 'A whole number.'
  else if (limit < 1 || limit > MAX_LIMIT) errors.limit = `Between 1 and ${MAX_LIMIT.toLocaleString('en-US')}.`
  return errors
}

/** `PUT /api/v1/rate-limits/{key}`'s body (call after `validateDraft` found nothing). */
export function toPutBody(draft: RateLimitDraft): RateLimitPut {
  return {
    limit: Number(draft.limit.trim()),
    window: draft.window,
    ...(draft.strategy ? { strategy: draft.strategy } : {}),
    config: draft.config,
  }
}

/**
 * The part of a strategy's config schema the form asks for: every strategy's schema also lists
 * `limit` and `window_seconds`, which the form has as fields of its own.
 */
export function ownSettings(schema: JsonSchema | undefined): JsonSchema | undefined {
  const { limit: _limit, window_seconds: _window, ...rest } = schema?.properties ?? {}
  if (!schema || Object.keys(rest).length === 0) return undefined
  return { ...schema, properties: rest, required: (schema.required ?? []).filter((k) => k in rest) }
}

/** How much of a limit is used now: a share from 0 to 1 (null when the limit is unknown). */
export function usedShare(limit: Pick<RateLimit, 'limit' | 'usage'>): number | null {
  if (!limit.usage || !limit.limit) return null
  return Math.min(1, Math.max(0, limit.usage.used / limit.limit))
}

/** A usage bar's tone: calm, getting close, or at the limit (tasks wait). */
export function usageTone(share: number | null): 'ok' | 'warn' | 'full' {
  if (share === null || share < 0.75) return 'ok'
  return share < 1 ? 'warn' : 'full'
}
