/**
 * A form generated from a JSON Schema — used for configuration whose shape the server defines
 * (alert channel types publish a `config_schema`). Renders string, number, integer, boolean,
 * enum, array-of-strings (or of enum values) and nested object fields; marks required fields;
 * shows `writeOnly` / `format: password` fields as password inputs; and shows validation
 * messages once `showErrors` is set (typically after the first submit attempt).
 *
 * Controlled: the caller owns `value` and gets every change through `onChange`. Validate with
 * `validate(schema, value)` from `@/lib/json-schema` before submitting, and send
 * `pruneEmpty(schema, value)`.
 */
import { PlusIcon, XIcon } from 'lucide-react'
import { useEffect, useId, useState } from 'react'
import { Button } from '@/components/ui/button'
import { Checkbox, Field, Input, Label, NativeSelect, Textarea } from '@/components/ui/input'
import {
  type FieldErrors,
  humanize,
  isSecret,
  joinPath,
  type JsonSchema,
  schemaType,
  validate,
} from '@/lib/json-schema'
import { cn } from '@/lib/utils'

export { defaultValue, pruneEmpty, validate, type JsonSchema } from '@/lib/json-schema'

interface FieldProps {
  schema: JsonSchema
  value: unknown
  onChange: (value: unknown) => void
  path: string
  label: string
  required: boolean
  errors: FieldErrors
  idPrefix: string
  disabled?: boolean
}

export function JsonSchemaForm({
  schema,
  value,
  onChange,
  showErrors = false,
  disabled,
  className,
}: {
  schema: JsonSchema
  value: unknown
  onChange: (value: unknown) => void
  showErrors?: boolean
  disabled?: boolean
  className?: string
}) {
  const idPrefix = useId()
  const errors = showErrors ? validate(schema, value) : {}
  if (schemaType(schema) !== 'object') {
    return (
      <div className={className}>
        <SchemaField schema={schema} value={value} onChange={onChange} path="" label={schema.title ?? 'Value'}
          required errors={errors} idPrefix={idPrefix} disabled={disabled} />
      </div>
    )
  }
  return (
    <div className={cn('grid gap-4', className)}>
      <ObjectFields schema={schema} value={value} onChange={onChange} path="" errors={errors} idPrefix={idPrefix} disabled={disabled} />
    </div>
  )
}

function ObjectFields({
  schema,
  value,
  onChange,
  path,
  errors,
  idPrefix,
  disabled,
}: Omit<FieldProps, 'label' | 'required'>) {
  const record = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  const required = new Set(schema.required ?? [])
  return (
    <>
      {errors[path] ? <p className="text-sm text-destructive" role="alert">{errors[path]}</p> : null}
      {Object.entries(schema.properties ?? {}).map(([key, child]) => {
        if (child.readOnly) return null
        return (
          <SchemaField
            key={key}
            schema={child}
            value={record[key]}
            onChange={(next) => {
              const copy = { ...record }
              if (next === undefined) delete copy[key]
              else copy[key] = next
              onChange(copy)
            }}
            path={joinPath(path, key)}
            label={child.title ?? humanize(key)}
            required={required.has(key)}
            errors={errors}
            idPrefix={idPrefix}
            disabled={disabled}
          />
        )
      })}
    </>
  )
}

function fieldId(idPrefix: string, path: string) {
  return `${idPrefix}-${path.replace(/[^A-Za-z0-9_-]/g, '_') || 'root'}`
}

/** aria wiring shared by every input: invalid flag and which hint/error describes it. */
function describe(id: string, error: string | undefined, hint: string | undefined) {
  return {
    'aria-invalid': error ? (true as const) : undefined,
    'aria-describedby': error ? `${id}-error` : hint ? `${id}-hint` : undefined,
  }
}

function SchemaField(props: FieldProps) {
  const { schema, value, onChange, path, label, required, errors, idPrefix, disabled } = props
  const type = schemaType(schema)
  const id = fieldId(idPrefix, path)
  const error = errors[path]
  const hint = schema.description

  if (type === 'object') {
    return (
      <fieldset className="grid gap-4 rounded-lg border p-4">
        <legend className="px-1 text-sm font-semibold">
          {label}
          {required ? <span className="ml-0.5 text-destructive" aria-hidden>*</span> : null}
        </legend>
        {hint ? <p className="-mt-2 text-xs text-muted-foreground">{hint}</p> : null}
        <ObjectFields {...props} />
      </fieldset>
    )
  }

  if (type === 'boolean') {
    return (
      <div className="grid gap-1">
        <div className="flex items-center gap-2">
          <Checkbox id={id} checked={value === true} disabled={disabled} onChange={(e) => onChange(e.target.checked)}
            {...describe(id, error, hint)} />
          <Label htmlFor={id}>
            {label}
            {required ? <span className="ml-0.5 text-destructive" aria-hidden>*</span> : null}
          </Label>
        </div>
        {error ? <p id={`${id}-error`} role="alert" className="text-xs text-destructive">{error}</p> : null}
        {!error && hint ? <p id={`${id}-hint`} className="text-xs text-muted-foreground">{hint}</p> : null}
      </div>
    )
  }

  if (type === 'array') {
    return <ArrayField {...props} id={id} />
  }

  return (
    <Field id={id} label={label} required={required} error={error} hint={hint}>
      {schema.enum ? (
        <EnumSelect id={id} schema={schema} value={value} onChange={onChange} required={required} disabled={disabled}
          {...describe(id, error, hint)} />
      ) : type === 'number' || type === 'integer' ? (
        <NumberInput id={id} integer={type === 'integer'} schema={schema} value={value} onChange={onChange}
          required={required} disabled={disabled} {...describe(id, error, hint)} />
      ) : (
        <StringInput id={id} schema={schema} value={value} onChange={onChange} required={required} disabled={disabled}
          {...describe(id, error, hint)} />
      )}
    </Field>
  )
}

type InputProps = {
  id: string
  schema: JsonSchema
  value: unknown
  onChange: (value: unknown) => void
  required: boolean
  disabled?: boolean
  'aria-invalid'?: true
  'aria-describedby'?: string
  'aria-label'?: string
}

function StringInput({ schema, value, onChange, required, ...rest }: InputProps) {
  const text = typeof value === 'string' ? value : value == null ? '' : String(value)
  const common = {
    ...rest,
    value: text,
    required,
    maxLength: schema.maxLength,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      onChange(e.target.value === '' ? undefined : e.target.value),
  }
  if (schema.format === 'textarea' || (schema.maxLength ?? 0) > 500) {
    return <Textarea {...common} rows={4} className="font-sans text-sm" />
  }
  const secret = isSecret(schema)
  const inputType = secret ? 'password' : schema.format === 'email' ? 'email' : schema.format === 'uri' ? 'url' : 'text'
  return <Input {...common} type={inputType} autoComplete={secret ? 'new-password' : 'off'} spellCheck={secret ? false : undefined} />
}

function NumberInput({ schema, value, onChange, required, integer, ...rest }: InputProps & { integer: boolean }) {
  // Keep what the person typed ("1.", "-") while it is not yet a number.
  const [text, setText] = useState(typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '')
  useEffect(() => {
    if (typeof value === 'number' && Number(text) !== value) setText(String(value))
    if (value === undefined && text !== '') setText('')
    // biome-ignore lint/correctness/useExhaustiveDependencies: sync from outside changes only
  }, [value])
  return (
    <Input
      {...rest}
      type="text"
      inputMode={integer ? 'numeric' : 'decimal'}
      required={required}
      value={text}
      onChange={(e) => {
        const raw = e.target.value
        setText(raw)
        if (raw.trim() === '') return onChange(undefined)
        const parsed = Number(raw)
        // An unparseable entry is kept as text, so validation can say what is wrong.
        onChange(Number.isNaN(parsed) ? raw : parsed)
      }}
      placeholder={schema.minimum !== undefined && schema.maximum !== undefined ? `${schema.minimum}–${schema.maximum}` : undefined}
    />
  )
}

function EnumSelect({ schema, value, onChange, required, ...rest }: InputProps) {
  const options = schema.enum ?? []
  const index = options.findIndex((option) => Object.is(option, value))
  return (
    <NativeSelect {...rest} required={required} value={index < 0 ? '' : String(index)}
      onChange={(e) => onChange(e.target.value === '' ? undefined : options[Number(e.target.value)])}>
      <option value="" disabled={required}>{required ? 'Choose…' : '—'}</option>
      {options.map((option, i) => (
        <option key={i} value={String(i)}>{String(option)}</option>
      ))}
    </NativeSelect>
  )
}

function ArrayField({ schema, value, onChange, path, label, required, errors, disabled, id }: FieldProps & { id: string }) {
  const items = Array.isArray(value) ? value : []
  const itemSchema: JsonSchema = schema.items ?? { type: 'string' }
  const error = errors[path]
  const hint = schema.description
  const legend = (
    <legend className="mb-1.5 text-sm font-medium">
      {label}
      {required ? <span className="ml-0.5 text-destructive" aria-hidden>*</span> : null}
    </legend>
  )

  // A list of choices: one checkbox per allowed value.
  if (itemSchema.enum) {
    return (
      <fieldset className="grid gap-1.5" aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}>
        {legend}
        {itemSchema.enum.map((option, i) => (
          <div key={i} className="flex items-center gap-2">
            <Checkbox id={`${id}-${i}`} disabled={disabled} checked={items.some((item) => Object.is(item, option))}
              onChange={(e) => onChange(e.target.checked ? [...items, option] : items.filter((item) => !Object.is(item, option)))} />
            <Label htmlFor={`${id}-${i}`} className="font-normal">{String(option)}</Label>
          </div>
        ))}
        {error ? <p id={`${id}-error`} role="alert" className="text-xs text-destructive">{error}</p> : null}
        {!error && hint ? <p id={`${id}-hint`} className="text-xs text-muted-foreground">{hint}</p> : null}
      </fieldset>
    )
  }

  const canAdd = schema.maxItems === undefined || items.length < schema.maxItems
  return (
    <fieldset className="grid gap-2" aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}>
      {legend}
      {items.map((item, index) => {
        const itemPath = joinPath(path, index)
        const itemId = `${id}-${index}`
        const itemError = errors[itemPath]
        return (
          <div key={index} className="grid gap-1">
            <div className="flex items-center gap-2">
              <StringInput id={itemId} schema={itemSchema} value={item} required={false} disabled={disabled}
                aria-invalid={itemError ? true : undefined}
                aria-describedby={itemError ? `${itemId}-error` : undefined}
                aria-label={`${label} ${index + 1}`}
                onChange={(next) => onChange(items.map((old, i) => (i === index ? (next ?? '') : old)))} />
              <Button variant="ghost" size="icon-sm" disabled={disabled} aria-label={`Remove ${label} ${index + 1}`}
                onClick={() => onChange(items.filter((_, i) => i !== index))}>
                <XIcon />
              </Button>
            </div>
            {itemError ? <p id={`${itemId}-error`} role="alert" className="text-xs text-destructive">{itemError}</p> : null}
          </div>
        )
      })}
      <div>
        <Button variant="outline" size="sm" disabled={disabled || !canAdd} onClick={() => onChange([...items, ''])}>
          <PlusIcon /> Add {items.length ? 'another' : 'one'}
        </Button>
      </div>
      {error ? <p id={`${id}-error`} role="alert" className="text-xs text-destructive">{error}</p> : null}
      {!error && hint ? <p id={`${id}-hint`} className="text-xs text-muted-foreground">{hint}</p> : null}
    </fieldset>
  )
}
