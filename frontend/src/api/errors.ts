/**
 * Readable API errors. The server answers every failure with
 * `{"error": {"code", "message", "details"?}}`; proxies, a stopped server or Litestar's default
 * handler can produce other bodies, which are turned into the same shape here.
 */

export interface FieldIssue {
  key?: string
  message: string
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }

  get isUnauthorized(): boolean {
    return this.status === 401
  }

  get isForbidden(): boolean {
    return this.status === 403
  }

  get isNotFound(): boolean {
    return this.status === 404
  }

  /** Per-field problems of a 422, when the server listed them (`details: [{key, message}]`). */
  get fieldIssues(): FieldIssue[] {
    if (!Array.isArray(this.details)) return []
    return this.details.flatMap((item: unknown) => {
      if (!isRecord(item) || typeof item.message !== 'string') return []
      return [{ message: item.message, key: typeof item.key === 'string' ? item.key : undefined }]
    })
  }
}

const STATUS_MESSAGES: Record<number, string> = {
  400: 'The request was not understood.',
  401: 'You are not logged in, or your session has ended.',
  403: 'You do not have permission to do this.',
  404: 'Not found.',
  409: 'This conflicts with the current state; reload and try again.',
  413: 'The request is too large.',
  422: 'Some values are not valid.',
  429: 'Too many requests; wait a moment and try again.',
  500: 'The server hit an unexpected error.',
  502: 'The server is not reachable (bad gateway).',
  503: 'The server is unavailable right now.',
  504: 'The server took too long to answer.',
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'validation_error',
  429: 'rate_limited',
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}

/** Build an {@link ApiError} from an HTTP status and a parsed (or raw text) response body. */
export function parseApiError(status: number, body: unknown): ApiError {
  const fallbackCode = STATUS_CODES[status] ?? (status >= 500 ? 'server_error' : 'error')
  const fallbackMessage = STATUS_MESSAGES[status] ?? `Request failed with status ${status}.`

  if (isRecord(body) && isRecord(body.error)) {
    const { code, message, details } = body.error
    return new ApiError(
      status,
      nonEmpty(code) ?? fallbackCode,
      nonEmpty(message) ?? fallbackMessage,
      details,
    )
  }
  if (isRecord(body)) {
    // Litestar's default error body, or a generic `{message}`/`{detail}` from a proxy.
    const message = nonEmpty(body.message) ?? nonEmpty(body.detail)
    const details = body.extra ?? body.details
    return new ApiError(status, fallbackCode, message ?? fallbackMessage, details)
  }
  if (typeof body === 'string') {
    const text = body.trim()
    // An HTML error page from a proxy is noise for a user: keep the status message then.
    if (text && !text.startsWith('<') && text.length <= 300) {
      return new ApiError(status, fallbackCode, text)
    }
  }
  return new ApiError(status, fallbackCode, fallbackMessage)
}

/** A fetch that never reached the server (offline, DNS, CORS, server stopped). */
export function networkError(cause: unknown): ApiError {
  const detail = cause instanceof Error ? ` (${cause.message})` : ''
  return new ApiError(0, 'network_error', `Could not reach the Kiln server${detail}.`)
}

/** The message to show a user for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error && error.message) return error.message
  return 'Something went wrong.'
}
