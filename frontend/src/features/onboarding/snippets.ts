/**
 * The copy-paste snippets of the onboarding page, filled in with the real server URL and key.
 * The worker follows the SDK shape of DESIGN.md §7; the curl line triggers the same workflow.
 */

export const ONBOARDING_WORKFLOW = 'hello-kiln'

/** Quote a string for a POSIX shell: safe for any content, including quotes and `$`. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value
  return `'${value.replace(/'/g, `'"'"'`)}'`
}

export function shellSetupSnippet({ apiUrl, apiKey }: { apiUrl: string; apiKey: string }): string {
  return [
    'pip install kiln-sdk        # from a Kiln checkout: pip install ./sdk',
    `export KILN_API_URL=${shellQuote(apiUrl)}`,
    `export KILN_API_KEY=${shellQuote(apiKey)}`,
    'python worker.py',
  ].join('\n')
}

export function workerSnippet(workflow: string = ONBOARDING_WORKFLOW): string {
  return `# worker.py
from kiln import Context, Kiln

kiln = Kiln()  # reads KILN_API_URL and KILN_API_KEY

wf = kiln.workflow(${JSON.stringify(workflow)})


@wf.task()
def greet(input: dict, ctx: Context) -> dict:
    return {"greeting": f"Hello, {input.get('name', 'world')}!"}


@wf.task(parents=[greet])
def shout(input: dict, ctx: Context) -> dict:
    return {"loud": ctx.task_output(greet)["greeting"].upper()}


if __name__ == "__main__":
    worker = kiln.worker("first-worker", workflows=[wf], slots=10)
    worker.start()  # Ctrl-C stops it gracefully
`
}

export function curlTriggerSnippet({
  apiUrl,
  apiKey,
  workflow = ONBOARDING_WORKFLOW,
  input = { name: 'Kiln' },
}: {
  apiUrl: string
  apiKey: string
  workflow?: string
  input?: unknown
}): string {
  const url = `${apiUrl.replace(/\/+$/, '')}/api/v1/workflows/${encodeURIComponent(workflow)}/runs`
  const body = JSON.stringify({ input })
  return [
    `curl -sS -X POST ${shellQuote(url)} \\`,
    `  -H ${shellQuote(`Authorization: Bearer ${apiKey}`)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(body)}`,
  ].join('\n')
}
