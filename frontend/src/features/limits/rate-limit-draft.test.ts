import { describe, expect, it } from 'vitest'
import type { RateLimit } from '@/api/limits'
import { splitKey } from './concurrency-table'
import { draftFrom, emptyDraft, ownSettings, toPutBody, usageTone, usedShare, validateDraft } from './rate-limit-draft'

const limit = (over: Partial<RateLimit> = {}): RateLimit => ({
  key: 'crm-api',
  source: 'api',
  limit: 100,
  window: 'minute',
  window_seconds: 60,
  strategy: 'token-bucket',
  config: { burst: 5 },
  usage: { used: 30, remaining: 70 },
  updated_at: '2026-01-01T00:00:00Z',
  ...over,
})

describe('rate-limit draft', () => {
  it('checks the key and the limit', () => {
    expect(validateDraft(emptyDraft())).toEqual({ key: expect.any(String), limit: expect.any(String) })
    expect(validateDraft({ ...emptyDraft(), key: ' crm ', limit: '10' })).toEqual({})
    for (const bad of ['0', '-3', '1.5', 'ten', '1000000001', '1e3']) {
      expect(validateDraft({ ...emptyDraft(), key: 'k', limit: bad }).limit, bad).toBeTruthy()
    }
    expect(validateDraft({ ...emptyDraft(), key: 'x'.repeat(256), limit: '1' }).key).toBe('At most 255 characters.')
  })

  it('becomes the PUT body: the tenant default strategy is left out', () => {
    expect(toPutBody({ key: 'k', limit: ' 25 ', window: 'second', strategy: '', config: {} })).toEqual({ limit: 25, window: 'second', config: {} })
    expect(toPutBody({ key: 'k', limit: '5', window: 'hour', strategy: 'token-bucket', config: { burst: 2 } })).toEqual({
      limit: 5,
      window: 'hour',
      strategy: 'token-bucket',
      config: { burst: 2 },
    })
  })

  it('starts an edit from the limit as it is', () => {
    expect(draftFrom(limit())).toEqual({ key: 'crm-api', limit: '100', window: 'minute', strategy: 'token-bucket', config: { burst: 5 } })
    // A dynamic key with no limit of its own yet: empty limit, default strategy.
    expect(draftFrom(limit({ source: 'dynamic', limit: null, window: null }))).toMatchObject({ limit: '', window: 'minute', strategy: '' })
  })

  it('asks only for a strategy’s own settings', () => {
    const schema = {
      type: 'object' as const,
      properties: { limit: { type: 'integer' as const }, window_seconds: { type: 'number' as const }, burst: { type: 'integer' as const } },
      required: ['limit', 'burst'],
    }
    expect(ownSettings(schema)).toEqual({ type: 'object', properties: { burst: { type: 'integer' } }, required: ['burst'] })
    expect(ownSettings({ type: 'object', properties: { limit: { type: 'integer' } } })).toBeUndefined()
    expect(ownSettings(undefined)).toBeUndefined()
  })
})

describe('usage', () => {
  it('is a share of the limit, with a tone', () => {
    expect(usedShare(limit())).toBeCloseTo(0.3)
    expect(usedShare(limit({ usage: null }))).toBeNull()
    expect(usedShare(limit({ limit: null }))).toBeNull()
    expect(usedShare(limit({ usage: { used: 150, remaining: 0 } }))).toBe(1)
    expect([usageTone(null), usageTone(0.3), usageTone(0.8), usageTone(1)]).toEqual(['ok', 'ok', 'warn', 'full'])
  })
})

describe('concurrency keys', () => {
  it('split into workflow or task and value', () => {
    expect(splitKey('etl#0=acme')).toEqual({ group: 'etl', value: 'acme' })
    expect(splitKey('etl/store#1=')).toEqual({ group: 'etl/store', value: '' })
    expect(splitKey('a#0=x=y')).toEqual({ group: 'a', value: 'x=y' })
  })
})
