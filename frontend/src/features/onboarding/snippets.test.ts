import { describe, expect, it } from 'vitest'
import { curlTriggerSnippet, shellQuote, shellSetupSnippet, workerSnippet } from './snippets'

const KEY = 'kiln_abcDEF0123456789abcDEF0123456789abcDEF0123456'

describe('onboarding snippets', () => {
  it('quotes for a POSIX shell', () => {
    expect(shellQuote('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080')
    expect(shellQuote('a b')).toBe("'a b'")
    expect(shellQuote(`it's $HOME`)).toBe(`'it'"'"'s $HOME'`)
  })

  it('fills the curl trigger with the real URL, key and a JSON body', () => {
    const curl = curlTriggerSnippet({ apiUrl: 'https://kiln.example.com/', apiKey: KEY, input: { name: "O'Brien" } })
    expect(curl).toContain("curl -sS -X POST https://kiln.example.com/api/v1/workflows/hello-kiln/runs")
    expect(curl).toContain(`-H 'Authorization: Bearer ${KEY}'`)
    expect(curl).toContain(`-d '{"input":{"name":"O'"'"'Brien"}}'`)
  })

  it('exports the key and URL for the worker', () => {
    const setup = shellSetupSnippet({ apiUrl: 'http://localhost:8080', apiKey: KEY })
    expect(setup).toContain(`export KILN_API_KEY=${KEY}`)
    expect(setup).toContain('export KILN_API_URL=http://localhost:8080')
  })

  it('writes a worker that follows the SDK shape', () => {
    const code = workerSnippet('etl')
    expect(code).toContain('kiln = Kiln()')
    expect(code).toContain('wf = kiln.workflow("etl")')
    expect(code).toContain('@wf.task(parents=[greet])')
    expect(code).toContain('kiln.worker("first-worker", workflows=[wf], slots=10)')
  })
})
