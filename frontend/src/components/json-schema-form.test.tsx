// @vitest-environment jsdom
import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'
import { type JsonSchema, JsonSchemaForm, validate } from './json-schema-form'

const slack: JsonSchema = {
  type: 'object',
  title: 'Slack',
  properties: {
    webhook_url: { type: 'string', format: 'uri', writeOnly: true, title: 'Incoming webhook URL', pattern: '^https?://' },
    mention: { type: 'string', maxLength: 10, title: 'Mention', description: 'Prepended to each message.' },
  },
  required: ['webhook_url'],
}

const everything: JsonSchema = {
  type: 'object',
  properties: {
    to: { type: 'array', title: 'Recipients', minItems: 1, items: { type: 'string', format: 'email' } },
    port: { type: 'integer', title: 'Port', minimum: 1, maximum: 65535 },
    ratio: { type: 'number', title: 'Ratio' },
    tls: { type: 'boolean', title: 'Use TLS' },
    level: { type: 'string', title: 'Level', enum: ['info', 'error'] },
    events: { type: 'array', title: 'Events', items: { type: 'string', enum: ['run.failed', 'worker.lost'] } },
    password: { type: 'string', format: 'password', title: 'SMTP password' },
    smtp: { type: 'object', title: 'SMTP', required: ['host'], properties: { host: { type: 'string', title: 'Host' } } },
  },
  required: ['to', 'level'],
}

function Harness({ schema, initial = {}, showErrors = false }: { schema: JsonSchema; initial?: unknown; showErrors?: boolean }) {
  const [value, setValue] = useState<unknown>(initial)
  const [submitted, setSubmitted] = useState(showErrors)
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault()
        setSubmitted(true)
      }}
      noValidate
    >
      <JsonSchemaForm schema={schema} value={value} onChange={setValue} showErrors={submitted} />
      <output data-testid="value">{JSON.stringify(value)}</output>
      <output data-testid="valid">{String(Object.keys(validate(schema, value)).length === 0)}</output>
      <button type="submit">Save</button>
    </form>
  )
}

const valueOf = () => JSON.parse(screen.getByTestId('value').textContent ?? 'null')

describe('JsonSchemaForm', () => {
  it('renders writeOnly fields as password inputs and marks required fields', () => {
    render(<Harness schema={slack} />)
    const url = screen.getByLabelText(/Incoming webhook URL/)
    expect(url.getAttribute('type')).toBe('password')
    expect(url.hasAttribute('required')).toBe(true)
    expect(screen.getByText('Incoming webhook URL').parentElement?.textContent).toContain('*')
    const mention = screen.getByLabelText('Mention')
    expect(mention.getAttribute('type')).toBe('text')
    expect(mention.getAttribute('aria-describedby')).toBeTruthy()
    expect(screen.getByText('Prepended to each message.')).toBeTruthy()
  })

  it('shows validation messages after submit, tied to their fields', async () => {
    const user = userEvent.setup()
    render(<Harness schema={slack} />)
    expect(screen.queryByRole('alert')).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Save' }))
    const url = screen.getByLabelText(/Incoming webhook URL/)
    expect(url.getAttribute('aria-invalid')).toBe('true')
    expect(screen.getByText('Required.')).toBeTruthy()
    await user.type(url, 'ftp://nope')
    expect(screen.getByText('Enter a URL starting with http:// or https://.')).toBeTruthy()
    await user.clear(url)
    await user.type(url, 'https://hooks.slack.com/x')
    expect(screen.queryByRole('alert')).toBeNull()
    expect(valueOf()).toEqual({ webhook_url: 'https://hooks.slack.com/x' })
  })

  it('edits every supported field type into a typed value', async () => {
    const user = userEvent.setup()
    render(<Harness schema={everything} />)

    await user.click(screen.getByRole('button', { name: /Add one/ }))
    await user.type(screen.getByLabelText('Recipients 1'), 'ops@example.com')
    await user.click(screen.getByRole('button', { name: /Add another/ }))
    await user.type(screen.getByLabelText('Recipients 2'), 'dev@example.com')
    await user.click(screen.getByRole('button', { name: 'Remove Recipients 1' }))

    await user.type(screen.getByLabelText('Port'), '587')
    await user.type(screen.getByLabelText('Ratio'), '0.5')
    await user.click(screen.getByLabelText('Use TLS'))
    await user.selectOptions(screen.getByLabelText(/Level/), 'error')
    await user.click(screen.getByLabelText('worker.lost'))
    expect(screen.getByLabelText('SMTP password').getAttribute('type')).toBe('password')
    const smtp = screen.getByRole('group', { name: /SMTP/ })
    await user.type(within(smtp).getByLabelText(/Host/), 'mx.example.com')

    expect(valueOf()).toEqual({
      to: ['dev@example.com'],
      port: 587,
      ratio: 0.5,
      tls: true,
      level: 'error',
      events: ['worker.lost'],
      smtp: { host: 'mx.example.com' },
    })
    expect(screen.getByTestId('valid').textContent).toBe('true')
  })

  it('explains bad numbers and list items', async () => {
    const user = userEvent.setup()
    render(<Harness schema={everything} initial={{ to: ['not-an-email'], level: 'info' }} showErrors />)
    expect(screen.getByText('Enter an e-mail address, like name@example.com.')).toBeTruthy()
    await user.type(screen.getByLabelText('Port'), '99999')
    expect(screen.getByText('Must be at most 65535.')).toBeTruthy()
    await user.clear(screen.getByLabelText('Port'))
    await user.type(screen.getByLabelText('Port'), '1.5')
    expect(screen.getByText('Enter a whole number.')).toBeTruthy()
    // SMTP is optional, but once started its own required field counts.
    const host = within(screen.getByRole('group', { name: /SMTP/ })).getByLabelText(/Host/)
    await user.type(host, 'x')
    await user.clear(host)
    expect(valueOf().smtp).toEqual({})
    expect(screen.getByText('Required.')).toBeTruthy()
    expect(host.getAttribute('aria-invalid')).toBe('true')
  })
})
