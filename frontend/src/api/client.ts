/**
 * The typed API client: openapi-fetch over the generated `schema.d.ts`.
 *
 * Browser sessions use the HttpOnly `kiln_session` cookie (`credentials: 'include'`); unsafe
 * requests echo the readable `kiln_csrf` cookie as `X-CSRF-Token` (double-submit). The API
 * lives at the same origin unless the build sets `VITE_KILN_API_URL` (SPA hosted elsewhere; the
 * server then needs that origin in `KILN_CORS_ORIGINS`).
 */
import createClient, { type Middleware } from 'openapi-fetch'
import { networkError, parseApiError } from '@/api/errors'
import type { paths } from '@/api/schema'
import { readCookie } from '@/lib/cookies'

export const CSRF_COOKIE = 'kiln_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function resolveBaseUrl(): string {
  const configured = import.meta.env.VITE_KILN_API_URL as string | undefined
  // `globalThis.location` is absent outside a browser (unit tests of modules importing this).
  const base = configured?.trim() || globalThis.location?.origin || 'http://localhost'
  return base.replace(/\/+$/, '')
}

/** Where the API (and so the SDK's `KILN_API_URL`) lives. */
export const apiBaseUrl = resolveBaseUrl()

export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (SAFE_METHODS.has(request.method.toUpperCase())) return undefined
    const token = readCookie(CSRF_COOKIE)
    if (token) request.headers.set(CSRF_HEADER, token)
    return request
  },
}

export const api = createClient<paths>({ baseUrl: apiBaseUrl, credentials: 'include' })
api.use(csrfMiddleware)

interface FetchResult {
  data?: unknown
  error?: unknown
  response: Response
}

type DataOf<R extends FetchResult> = [Exclude<R['data'], undefined>] extends [never]
  ? void
  : Exclude<R['data'], undefined>

/**
 * Await an openapi-fetch call and return its data, or throw an {@link ApiError} with a readable
 * message (network failures included). Query and mutation functions all go through here.
 */
export async function unwrap<R extends FetchResult>(request: Promise<R>): Promise<DataOf<R>> {
  let result: R
  try {
    result = await request
  } catch (cause) {
    throw networkError(cause)
  }
  if (result.error !== undefined || !result.response.ok) {
    throw parseApiError(result.response.status, result.error)
  }
  return result.data as DataOf<R>
}
