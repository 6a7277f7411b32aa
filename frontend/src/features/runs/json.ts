/** Parse JSON typed by a person, with a message that says where it broke. */
export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string }

export function parseJsonInput(text: string, { emptyAs }: { emptyAs?: unknown } = {}): JsonParse {
  if (!text.trim()) {
    return emptyAs === undefined ? { ok: false, error: 'Enter a JSON value, e.g. {}' } : { ok: true, value: emptyAs }
  }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return { ok: false, error: `Not valid JSON: ${message}` }
  }
}

export function parseJsonObject(text: string): JsonParse {
  const parsed = parseJsonInput(text, { emptyAs: {} })
  if (!parsed.ok) return parsed
  if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    return { ok: false, error: 'Must be a JSON object, e.g. {"customer": "acme"}' }
  }
  return parsed
}

/** Pretty JSON for display; `undefined`/`null` read as an em dash by callers. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return ''
  return JSON.stringify(value, null, 2)
}
