import { describe, expect, it } from 'vitest'
import { ApiError, errorMessage, networkError, parseApiError } from './errors'

describe('parseApiError', () => {
  it('reads the server error envelope', () => {
    const error = parseApiError(409, { error: { code: 'conflict', message: 'a key with this name exists' } })
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 409, code: 'conflict', message: 'a key with this name exists' })
  })

  it('keeps 422 field details', () => {
    const error = parseApiError(422, {
      error: {
        code: 'validation_error',
        message: 'Expected `str` of length >= 10 (password)',
        details: [{ key: 'password', message: 'Expected `str` of length >= 10' }, { nonsense: true }],
      },
    })
    expect(error.fieldIssues).toEqual([{ key: 'password', message: 'Expected `str` of length >= 10' }])
  })

  it('falls back to a readable message per status', () => {
    expect(parseApiError(403, undefined).message).toBe('You do not have permission to do this.')
    expect(parseApiError(403, { error: { message: '' } })).toMatchObject({ code: 'forbidden', message: 'You do not have permission to do this.' })
    expect(parseApiError(503, '').message).toBe('The server is unavailable right now.')
    expect(parseApiError(418, null)).toMatchObject({ code: 'error', message: 'Request failed with status 418.' })
    expect(parseApiError(500, null).code).toBe('server_error')
  })

  it('understands Litestar defaults, plain text and proxies', () => {
    expect(parseApiError(400, { status_code: 400, detail: 'bad cursor' }).message).toBe('bad cursor')
    expect(parseApiError(502, 'upstream connect error').message).toBe('upstream connect error')
    expect(parseApiError(502, '<html><body>Bad Gateway</body></html>').message).toBe('The server is not reachable (bad gateway).')
  })

  it('exposes status helpers', () => {
    expect(parseApiError(401, null).isUnauthorized).toBe(true)
    expect(parseApiError(403, null).isForbidden).toBe(true)
    expect(parseApiError(404, null).isNotFound).toBe(true)
  })
})

describe('errorMessage', () => {
  it('says something useful for anything thrown', () => {
    expect(errorMessage(networkError(new TypeError('Failed to fetch')))).toBe('Could not reach the Kiln server (Failed to fetch).')
    expect(errorMessage(new Error('boom'))).toBe('boom')
    expect(errorMessage('???')).toBe('Something went wrong.')
  })
})
