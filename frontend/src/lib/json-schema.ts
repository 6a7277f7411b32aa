/**
 * The subset of JSON Schema that configuration forms use (alert channel types, later webhook
 * verifiers and rate-limit strategies): what a field is, its default, and validation with
 * messages a person can act on. Errors are keyed by path: `smtp.port`, `to.1`, `` (the root).
 */

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null'

export interface JsonSchema {
  type?: JsonType | JsonType[]
  title?: string
  description?: string
  default?: unknown
  enum?: readonly unknown[]
  const?: unknown
  format?: string
  writeOnly?: boolean
  readOnly?: boolean
  minLength?: number
  maxLength?: number
  pattern?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  properties?: Record<string, JsonSchema>
  required?: readonly string[]
  additionalProperties?: boolean | JsonSchema
  oneOf?: readonly JsonSchema[]
  anyOf?: readonly JsonSchema[]
}

export type FieldErrors = Record<string, string>

/** The one concrete type of a schema: `['string', 'null']` and `anyOf: [{…}, {type: null}]` → string. */
export function schemaType(schema: JsonSchema): JsonType | undefined {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []
  const concrete = types.find((t) => t !== 'null')
  if (concrete) return concrete
  for (const option of schema.anyOf ?? schema.oneOf ?? []) {
    const t = schemaType(option)
    if (t && t !== 'null') return t
  }
  if (schema.properties) return 'object'
  if (schema.enum?.length) {
    const first = schema.enum[0]
    return typeof first === 'number' ? 'number' : typeof first === 'boolean' ? 'boolean' : 'string'
  }
  return types[0]
}

/** Shown as a password input: secrets the server never returns. */
export function isSecret(schema: JsonSchema): boolean {
  return schema.writeOnly === true || schema.format === 'password'
}

export function joinPath(base: string, key: string | number): string {
  return base ? `${base}.${key}` : String(key)
}

/** `subject_prefix` → `Subject prefix`, for properties without a title. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase()
}

/** The starting value of a form: defaults, nested objects built out, nothing invented. */
export function defaultValue(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default)
  const type = schemaType(schema)
  if (type === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const value = defaultValue(child)
      if (value !== undefined) out[key] = value
    }
    return out
  }
  if (type === 'array' && (schema.required?.length ?? 0) === 0) return undefined
  return undefined
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/

function checkFormat(format: string | undefined, value: string): string | undefined {
  switch (format) {
    case 'email':
      return EMAIL.test(value) ? undefined : 'Enter an e-mail address, like name@example.com.'
    case 'uri':
    case 'url':
      try {
        new URL(value)
        return undefined
      } catch {
        return 'Enter a full URL, like https://example.com/hook.'
      }
    default:
      return undefined
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/**
 * Validate `value` against `schema`. Returns every problem, keyed by path; an empty object
 * means valid. Required-ness is the parent object's business (`required`), as in JSON Schema.
 */
export function validate(schema: JsonSchema, value: unknown, path = '', errors: FieldErrors = {}): FieldErrors {
  const type = schemaType(schema)
  if (value === undefined || value === null || value === '') return errors

  if (schema.enum && !schema.enum.some((option) => Object.is(option, value))) {
    errors[path] = 'Pick one of the options.'
    return errors
  }

  switch (type) {
    case 'string': {
      if (typeof value !== 'string') {
        errors[path] = 'Enter text.'
        break
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        errors[path] = `Use at least ${plural(schema.minLength, 'character')}.`
      } else if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        errors[path] = `Use at most ${plural(schema.maxLength, 'character')}.`
      } else {
        const formatError = checkFormat(schema.format, value)
        if (formatError) errors[path] = formatError
        else if (schema.pattern && !safeRegExp(schema.pattern)?.test(value)) {
          errors[path] = schema.format === 'uri' ? 'Enter a URL starting with http:// or https://.' : 'This does not have the expected format.'
        }
      }
      break
    }
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || Number.isNaN(value)) {
        errors[path] = type === 'integer' ? 'Enter a whole number.' : 'Enter a number.'
      } else if (type === 'integer' && !Number.isInteger(value)) {
        errors[path] = 'Enter a whole number.'
      } else if (schema.minimum !== undefined && value < schema.minimum) {
        errors[path] = `Must be at least ${schema.minimum}.`
      } else if (schema.maximum !== undefined && value > schema.maximum) {
        errors[path] = `Must be at most ${schema.maximum}.`
      } else if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
        errors[path] = `Must be more than ${schema.exclusiveMinimum}.`
      } else if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
        errors[path] = `Must be less than ${schema.exclusiveMaximum}.`
      }
      break
    }
    case 'boolean':
      if (typeof value !== 'boolean') errors[path] = 'Choose yes or no.'
      break
    case 'array': {
      if (!Array.isArray(value)) {
        errors[path] = 'Enter a list.'
        break
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        errors[path] = `Add at least ${plural(schema.minItems, 'item')}.`
      } else if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        errors[path] = `Use at most ${plural(schema.maxItems, 'item')}.`
      } else if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
        errors[path] = 'Each item must be different.'
      }
      if (schema.items) {
        value.forEach((item, index) => {
          const itemPath = joinPath(path, index)
          if (isEmpty(item)) errors[itemPath] = 'Fill in this item or remove it.'
          else validate(schema.items as JsonSchema, item, itemPath, errors)
        })
      }
      break
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors[path] = 'Enter an object.'
        break
      }
      const record = value as Record<string, unknown>
      for (const key of schema.required ?? []) {
        if (isEmpty(record[key])) errors[joinPath(path, key)] = 'Required.'
      }
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (!isEmpty(record[key])) validate(child, record[key], joinPath(path, key), errors)
      }
      break
    }
    default:
      break
  }
  return errors
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u')
  } catch {
    return undefined
  }
}

/**
 * Drop empty optional values before sending: an untouched optional field must be absent, not
 * `""` (which a server may reject against `pattern`/`format`).
 */
export function pruneEmpty(schema: JsonSchema, value: unknown): unknown {
  const type = schemaType(schema)
  if (type === 'object' && value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const child = schema.properties?.[key]
      const pruned = child ? pruneEmpty(child, item) : item
      if (pruned === undefined || pruned === '' || pruned === null) continue
      out[key] = pruned
    }
    return out
  }
  if (type === 'array' && Array.isArray(value)) {
    const items = value.map((item) => (schema.items ? pruneEmpty(schema.items, item) : item)).filter((item) => !isEmpty(item))
    return items
  }
  return value
}
