import { describe, expect, it } from 'vitest'
import { defaultValue, humanize, isSecret, type JsonSchema, pruneEmpty, schemaType, validate } from './json-schema'

const email: JsonSchema = {
  type: 'object',
  properties: {
    to: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'string', format: 'email' } },
    subject_prefix: { type: 'string', maxLength: 5 },
  },
  required: ['to'],
}

describe('schemaType', () => {
  it('reads plain, nullable and implied types', () => {
    expect(schemaType({ type: 'integer' })).toBe('integer')
    expect(schemaType({ type: ['null', 'string'] })).toBe('string')
    expect(schemaType({ anyOf: [{ type: 'number' }, { type: 'null' }] })).toBe('number')
    expect(schemaType({ properties: {} })).toBe('object')
    expect(schemaType({ enum: [1, 2] })).toBe('number')
  })
})

describe('validate', () => {
  it('reports missing required fields by path', () => {
    expect(validate(email, {})).toEqual({ to: 'Required.' })
    expect(validate(email, { to: [] })).toEqual({ to: 'Required.' })
  })

  it('checks array items and sizes', () => {
    expect(validate(email, { to: ['a@b.co', 'nope'] })).toEqual({ 'to.1': 'Enter an e-mail address, like name@example.com.' })
    expect(validate(email, { to: ['a@b.co', ''] })).toEqual({ 'to.1': 'Fill in this item or remove it.' })
    expect(validate(email, { to: ['a@b.co', 'b@b.co', 'c@b.co', 'd@b.co'] })).toEqual({ to: 'Use at most 3 items.' })
    expect(validate({ type: 'array', uniqueItems: true }, ['x', 'x'])).toEqual({ '': 'Each item must be different.' })
  })

  it('checks string length, format and pattern', () => {
    expect(validate(email, { to: ['a@b.co'], subject_prefix: 'toolong' })).toEqual({ subject_prefix: 'Use at most 5 characters.' })
    expect(validate({ type: 'string', minLength: 2 }, 'a')).toEqual({ '': 'Use at least 2 characters.' })
    expect(validate({ type: 'string', format: 'uri' }, 'not a url')).toEqual({ '': 'Enter a full URL, like https://example.com/hook.' })
    expect(validate({ type: 'string', format: 'uri', pattern: '^https?://' }, 'ftp://x')).toEqual({
      '': 'Enter a URL starting with http:// or https://.',
    })
    expect(validate({ type: 'string', pattern: '^whsec_' }, 'abc')).toEqual({ '': 'This does not have the expected format.' })
    expect(validate({ type: 'string', pattern: '^whsec_' }, 'whsec_x')).toEqual({})
  })

  it('checks numbers, integers and bounds', () => {
    const port: JsonSchema = { type: 'integer', minimum: 1, maximum: 65535 }
    expect(validate(port, 25)).toEqual({})
    expect(validate(port, 2.5)).toEqual({ '': 'Enter a whole number.' })
    expect(validate(port, 'abc')).toEqual({ '': 'Enter a whole number.' })
    expect(validate(port, 0)).toEqual({ '': 'Must be at least 1.' })
    expect(validate(port, 70000)).toEqual({ '': 'Must be at most 65535.' })
    expect(validate({ type: 'number', exclusiveMinimum: 0 }, 0)).toEqual({ '': 'Must be more than 0.' })
    expect(validate({ type: 'number' }, 'x')).toEqual({ '': 'Enter a number.' })
  })

  it('checks enums and nested objects', () => {
    const schema: JsonSchema = {
      type: 'object',
      required: ['smtp'],
      properties: {
        smtp: { type: 'object', required: ['host'], properties: { host: { type: 'string' }, tls: { enum: ['none', 'starttls'] } } },
      },
    }
    expect(validate(schema, { smtp: {} })).toEqual({ 'smtp.host': 'Required.' })
    expect(validate(schema, { smtp: { host: 'mx', tls: 'ssl' } })).toEqual({ 'smtp.tls': 'Pick one of the options.' })
    expect(validate(schema, { smtp: { host: 'mx', tls: 'starttls' } })).toEqual({})
  })
})

describe('helpers', () => {
  it('builds defaults without inventing values', () => {
    expect(
      defaultValue({
        type: 'object',
        properties: { a: { type: 'string', default: 'x' }, b: { type: 'integer' }, c: { type: 'object', properties: { d: { type: 'boolean', default: true } } } },
      }),
    ).toEqual({ a: 'x', c: { d: true } })
  })

  it('prunes empty optional values before sending', () => {
    expect(pruneEmpty(email, { to: ['a@b.co', ''], subject_prefix: '' })).toEqual({ to: ['a@b.co'] })
  })

  it('knows secrets and readable labels', () => {
    expect(isSecret({ type: 'string', writeOnly: true })).toBe(true)
    expect(isSecret({ type: 'string', format: 'password' })).toBe(true)
    expect(isSecret({ type: 'string', format: 'uri' })).toBe(false)
    expect(humanize('subject_prefix')).toBe('Subject prefix')
    expect(humanize('webhookUrl')).toBe('Webhook url')
  })
})
