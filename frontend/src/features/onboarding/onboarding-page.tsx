import { Link } from '@tanstack/react-router'
import { useQuery } from '@tanstack/react-query'
import { ArrowRightIcon, CheckCircle2Icon } from 'lucide-react'
import { useState } from 'react'
import type { ApiKeyCreated } from '@/api/api-keys'
import { useCreateApiKey } from '@/api/api-keys'
import { meQuery } from '@/api/auth'
import { apiBaseUrl } from '@/api/client'
import { CodeBlock } from '@/components/copy-button'
import { ErrorAlert } from '@/components/error-alert'
import { PageHeader } from '@/components/page-header'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Field, Input } from '@/components/ui/input'
import { SecretOnce } from '@/features/api-keys/create-api-key-dialog'
import { cn } from '@/lib/utils'
import { curlTriggerSnippet, ONBOARDING_WORKFLOW, shellSetupSnippet, workerSnippet } from './snippets'

const KEY_PLACEHOLDER = '<your API key>'

function Step({ n, title, done, children }: { n: number; title: string; done?: boolean; children: React.ReactNode }) {
  return (
    <li className="relative grid grid-cols-[2rem_1fr] gap-4">
      <span
        className={cn(
          'flex size-8 items-center justify-center rounded-full border text-sm font-semibold',
          done ? 'border-success bg-success/15 text-success' : 'bg-background',
        )}
        aria-hidden
      >
        {done ? <CheckCircle2Icon className="size-4" /> : n}
      </span>
      <section className="grid min-w-0 gap-3 pb-8" aria-labelledby={`step-${n}`}>
        <h2 id={`step-${n}`} className="pt-1 font-semibold">
          {title}
          {done ? <span className="sr-only"> (done)</span> : null}
        </h2>
        {children}
      </section>
    </li>
  )
}

export function OnboardingPage() {
  const { data: me } = useQuery(meQuery)
  const create = useCreateApiKey()
  const [name, setName] = useState('first-worker')
  const [key, setKey] = useState<ApiKeyCreated | null>(null)
  const secret = key?.key ?? KEY_PLACEHOLDER

  return (
    <>
      <PageHeader
        title={me ? `Welcome to Kiln, ${me.user?.name || me.tenant.name}` : 'Get started'}
        description="Four steps from nothing to a finished workflow run: a key, a worker, a trigger, and the run itself."
      />
      <ol className="max-w-3xl">
        <Step n={1} title="Create an API key for your worker" done={key !== null}>
          {key ? (
            <>
              <p className="text-sm text-muted-foreground">
                Key <strong>{key.name}</strong> with scope <Badge variant="secondary">worker</Badge> — it can run tasks and
                trigger runs. The snippets below already contain it.
              </p>
              <SecretOnce secret={key.key} />
            </>
          ) : (
            <form
              className="flex flex-wrap items-end gap-3"
              onSubmit={(event) => {
                event.preventDefault()
                create.mutate(
                  { name: name.trim() || 'first-worker', scopes: ['worker'] },
                  { onSuccess: setKey },
                )
              }}
            >
              <Field id="onboarding-key-name" label="Key name" className="w-64">
                <Input id="onboarding-key-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
              </Field>
              <Button type="submit" disabled={create.isPending}>
                {create.isPending ? 'Creating…' : 'Create API key'}
              </Button>
              {create.error ? <ErrorAlert className="w-full" error={create.error} title="Could not create the key" /> : null}
            </form>
          )}
        </Step>
        <Step n={2} title="Run a worker">
          <p className="text-sm text-muted-foreground">
            Save this as <code className="font-mono">worker.py</code>. It defines the workflow{' '}
            <code className="font-mono">{ONBOARDING_WORKFLOW}</code> (two tasks, the second after the first) and serves it.
          </p>
          <CodeBlock code={workerSnippet()} label="Copy worker.py" />
          <p className="text-sm text-muted-foreground">Then, in the same folder:</p>
          <CodeBlock code={shellSetupSnippet({ apiUrl: apiBaseUrl, apiKey: secret })} label="Copy commands" />
        </Step>
        <Step n={3} title="Trigger a run">
          <p className="text-sm text-muted-foreground">
            From any terminal (or CI): this starts a run of <code className="font-mono">{ONBOARDING_WORKFLOW}</code> with
            an input.
          </p>
          <CodeBlock
            code={curlTriggerSnippet({ apiUrl: apiBaseUrl, apiKey: secret })}
            label="Copy curl"
          />
        </Step>
        <Step n={4} title="Watch it run">
          <p className="text-sm text-muted-foreground">
            The run appears in Runs; its page draws the DAG and fills in each task’s output as the worker reports it.
          </p>
          <div>
            <Button asChild variant="outline">
              <Link to="/runs">
                Open Runs <ArrowRightIcon />
              </Link>
            </Button>
          </div>
        </Step>
      </ol>
    </>
  )
}
