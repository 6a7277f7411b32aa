// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, csrfMiddleware, unwrap } from './client'
import { ApiError } from './errors'
import { readCookie } from '@/lib/cookies'

afterEach(() => {
  document.cookie = 'kiln_csrf=; max-age=0; path=/'
})

describe('readCookie', () => {
  it('finds one cookie among many and decodes it', () => {
    expect(readCookie('b', 'a=1; b=x%20y; c=3')).toBe('x y')
    expect(readCookie('kiln_csrf', 'kiln_csrf_old=1')).toBeUndefined()
  })
})

describe('csrfMiddleware', () => {
  const call = (method: string) => {
    const request = new Request('http://kiln.test/api/v1/api-keys', { method })
    const out = csrfMiddleware.onRequest?.({ request } as never)
    return (out as Request | undefined) ?? request
  }

  it('echoes the kiln_csrf cookie on unsafe methods only', () => {
    document.cookie = 'kiln_csrf=tok123; path=/'
    expect(call('POST').headers.get('X-CSRF-Token')).toBe('tok123')
    expect(call('DELETE').headers.get('X-CSRF-Token')).toBe('tok123')
    expect(call('GET').headers.get('X-CSRF-Token')).toBeNull()
  })
})

describe('unwrap', () => {
  it('returns data and throws readable errors', async () => {
    const fetchMock = vi.fn<typeof fetch>()
    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify({ status: 'ok' }), { status: 200, headers: { 'Content-Type': 'application/json' } }))
    await expect(unwrap(api.GET('/api/v1/health', { fetch: fetchMock }))).resolves.toMatchObject({ status: 'ok' })

    fetchMock.mockResolvedValueOnce(
      new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'session has ended; log in again' } }), {
        status: 401,
        headers: { 'Content-Type': 'application/json' },
      }),
    )
    const error = await unwrap(api.GET('/api/v1/me', { fetch: fetchMock })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 401, message: 'session has ended; log in again' })

    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'))
    await expect(unwrap(api.GET('/api/v1/me', { fetch: fetchMock }))).rejects.toMatchObject({ code: 'network_error' })
  })
})
