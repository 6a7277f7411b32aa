// Browser end-to-end test: a real server (embedded Postgres), the built SPA, Debian's chromium
// driven by playwright-core. Run `npm run build` first; `npm run e2e` builds nothing itself.
//
// Flow: sign up → onboarding → create an API key (shown once) → run the onboarding page's own
// worker.py and curl line → trigger a run from the UI and watch its DAG turn green → data
// retention → API keys page lists the key without the secret → members, audit → log out → log in
// → screenshots of the main pages (test-results/screenshots).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { startServer } from './server.mjs'

const CHROMIUM = process.env.KILN_E2E_CHROMIUM ?? '/usr/bin/chromium'
const TOTAL_BUDGET_MS = 115_000
const STEP_TIMEOUT_MS = 20_000

const frontendRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const shots = join(frontendRoot, 'test-results', 'screenshots')

if (!existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} not found. Install Debian's chromium first:`)
  console.error('  sudo apt-get install -y chromium')
  console.error('(`npx playwright install` cannot download browsers here; KILN_E2E_CHROMIUM overrides the path.)')
  process.exit(2)
}

const t0 = Date.now()
const log = (/** @type {string} */ line) => console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`)
let passed = 0

/**
 * Run one step with its own deadline.
 * @template T
 * @param {string} name
 * @param {() => Promise<T>} fn
 * @param {number} [timeout]
 * @returns {Promise<T>}
 */
async function step(name, fn, timeout = STEP_TIMEOUT_MS) {
  const started = Date.now()
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step "${name}" took longer than ${timeout / 1000} s`)), timeout)
  })
  try {
    const result = /** @type {T} */ (await Promise.race([fn(), deadline]))
    passed += 1
    log(`ok   ${name} (${Date.now() - started} ms)`)
    return result
  } catch (error) {
    log(`FAIL ${name}`)
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/** @param {boolean} condition @param {string} message */
function expect(condition, message) {
  if (!condition) throw new Error(`expectation failed: ${message}`)
}

// The whole run is bounded: a hung browser or server cannot stall CI.
const watchdog = setTimeout(() => {
  console.error(`e2e: exceeded the ${TOTAL_BUDGET_MS / 1000} s budget; aborting`)
  process.exit(3)
}, TOTAL_BUDGET_MS)
watchdog.unref()

mkdirSync(shots, { recursive: true })
/** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
let server
/** @type {import('playwright-core').Browser | undefined} */
let browser
/** @type {import('node:child_process').ChildProcess | undefined} */
let worker
/** Pages to screenshot if a step fails. @type {Map<string, import('playwright-core').Page>} */
const openPages = new Map()
const workDir = mkdtempSync(join(tmpdir(), 'kiln-e2e-worker-'))
/** @type {string[]} */
const workerOutput = []
let failed = false
try {
  server = await step('start server', () => startServer({ frontendRoot, log }), 70_000)
  const base = server.url
  browser = await step('launch chromium', () =>
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    }),
  )
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  openPages.set('main', page)
  /** @type {string[]} */
  const consoleErrors = []
  page.on('console', (message) => {
    // 401s are expected: the app asks "who am I?" while logged out, and the test checks logout.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(String(error)))
  const shot = (/** @type {string} */ name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })

  const email = `e2e-${Date.now()}@example.com`
  const password = 'correct horse battery staple'

  await step('anonymous visit redirects to log in', async () => {
    await page.goto(`${base}/runs`)
    await page.waitForURL(/\/login\?redirect=/)
    await page.getByRole('heading', { name: 'Log in' }).waitFor()
    await shot('login')
  })

  await step('sign up lands on onboarding', async () => {
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.waitForURL(/\/signup$/)
    await page.getByLabel('Your name').fill('E2E Tester')
    await page.getByLabel('E-mail').fill(email)
    await page.getByLabel('Password').fill(password)
    await page.getByLabel('Organization').fill('E2E Org')
    await shot('signup')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL(/\/onboarding$/)
    await page.getByRole('heading', { name: /Welcome to Kiln/ }).waitFor()
    expect((await page.getByTestId('current-tenant').textContent()) === 'E2E Org', 'tenant switcher shows the new tenant')
  })

  const secret = await step('create an API key on onboarding, shown once', async () => {
    await page.getByRole('button', { name: 'Create API key' }).click()
    const code = page.locator('pre code').filter({ hasText: /^kiln_[0-9A-Za-z]{49}$/ })
    await code.waitFor()
    const key = (await code.textContent())?.trim() ?? ''
    expect(/^kiln_[0-9A-Za-z]{49}$/.test(key), `a kiln_ key is shown (got ${key.slice(0, 12)}…)`)
    const curl = await page.locator('pre code').filter({ hasText: 'curl -sS -X POST' }).textContent()
    expect(curl?.includes(`Authorization: Bearer ${key}`) ?? false, 'the curl line carries the real key')
    expect(curl?.includes(`${base}/api/v1/workflows/`) ?? false, 'the curl line carries the server URL')
    const setup = await page.locator('pre code').filter({ hasText: 'export KILN_API_KEY' }).textContent()
    expect(setup?.includes(key) ?? false, 'the worker setup exports the real key')
    await shot('onboarding')
    return key
  })

  await step('the onboarding worker.py runs and registers its workflow', async () => {
    const code = (await page.locator('pre code').filter({ hasText: '# worker.py' }).textContent()) ?? ''
    writeFileSync(join(workDir, 'worker.py'), code)
    const python = resolve(frontendRoot, '..', '.venv', 'bin', 'python')
    worker = spawn(python, ['worker.py'], {
      cwd: workDir,
      env: { ...process.env, KILN_API_URL: base, KILN_API_KEY: secret },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (/** @type {Buffer} */ chunk) => workerOutput.push(chunk.toString())
    worker.stdout?.on('data', keep)
    worker.stderr?.on('data', keep)
    for (;;) {
      const response = await fetch(`${base}/api/v1/workflows/hello-kiln`, { headers: { Authorization: `Bearer ${secret}` } })
      if (response.ok) break
      expect(worker.exitCode === null, `worker.py exited early:\n${workerOutput.join('')}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  })

  await step('the onboarding curl line starts a run', async () => {
    if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) return log('     (curl not installed: skipped)')
    const curl = (await page.locator('pre code').filter({ hasText: 'curl -sS -X POST' }).textContent()) ?? ''
    const result = spawnSync('sh', ['-c', curl], { encoding: 'utf8', timeout: 10_000 })
    expect(result.status === 0, `curl exits 0 (${result.stderr})`)
    const run = JSON.parse(result.stdout)
    expect(run.workflow === 'hello-kiln' && typeof run.id === 'string', `curl answers a run (${result.stdout.slice(0, 200)})`)
  })

  await step('trigger a run from the UI and watch the DAG turn green', async () => {
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor() // the SSE stream is up
    await page.getByRole('link', { name: 'Runs', exact: true }).click()
    await page.waitForURL(/\/runs$/)
    await page.getByTestId('run-row').first().waitFor()
    await page.getByRole('button', { name: 'Trigger run' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Workflow').selectOption('hello-kiln')
    await dialog.getByLabel('Input (JSON)').fill('{"name": "e2e"}')
    await dialog.getByLabel('Metadata (JSON object, optional)').fill('{"suite": "e2e"}')
    await dialog.getByRole('button', { name: 'Start run' }).click()
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}/)
    const nodes = page.getByTestId('dag-node')
    await nodes.first().waitFor()
    expect((await nodes.count()) === 2, 'the DAG draws both tasks')
    await page.waitForFunction(
      () => {
        const statuses = [...document.querySelectorAll('[data-testid="dag-node"]')].map((n) => n.getAttribute('data-status'))
        return statuses.length === 2 && statuses.every((s) => s === 'succeeded')
      },
      undefined,
      { timeout: 15_000 },
    )
    await page.getByRole('tab', { name: 'Input & output' }).click()
    await page.getByText('HELLO, E2E!').waitFor()
    await page.getByRole('tab', { name: 'Graph' }).click()
    await shot('run-detail')
    await page.getByRole('tab', { name: 'Timeline' }).click()
    await page.getByRole('figure', { name: 'Timeline of task attempts' }).waitFor()
    await shot('run-timeline')
  })

  await step('replay from a task re-runs it and the tasks after it', async () => {
    await page.getByRole('tab', { name: 'Graph' }).click()
    await page.getByRole('table', { name: 'Tasks' }).getByRole('button', { name: 'shout' }).click()
    await page.getByRole('heading', { name: 'shout', exact: true }).waitFor()
    await page.getByRole('button', { name: 'Replay from here' }).click()
    await page.getByText('Replaying from shout', { exact: true }).waitFor()
    // The live stream brings the second attempt in; greet keeps its single attempt.
    const attempts = page.getByRole('table', { name: 'Tasks' }).getByRole('row')
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('table[aria-label="Tasks"] tbody tr')]
      const cells = rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent?.trim()))
      const shout = cells.find((c) => c[0] === 'shout')
      const greet = cells.find((c) => c[0] === 'greet')
      return shout?.[1] === 'succeeded' && shout?.[2] === '2' && greet?.[2] === '1'
    }, undefined, { timeout: 15_000 })
    expect((await attempts.count()) === 3, 'header + two task rows')
  })

  await step('runs filters live in the URL', async () => {
    await page.goto(`${base}/runs?status=succeeded&meta=suite:e2e`)
    await page.getByTestId('run-row').first().waitFor()
    expect((await page.getByTestId('run-row').count()) === 1, 'only the UI-triggered run has suite:e2e')
    // The chips count runs per status under the other filters (here suite:e2e), from the server.
    const succeeded = page.getByTestId('status-chip-succeeded')
    await page.waitForFunction(() => document.querySelector('[data-testid="status-chip-succeeded"] [data-testid="status-count"]')?.textContent === '1')
    expect((await succeeded.getAttribute('aria-pressed')) === 'true', 'the chip of the URL status is on')
    await page.getByTestId('status-chip-failed').click() // several statuses: succeeded or failed
    await page.waitForURL((url) => url.searchParams.get('status') === 'succeeded,failed')
    await page.getByTestId('run-row').first().waitFor()
    await succeeded.click()
    await page.waitForURL((url) => url.searchParams.get('status') === 'failed')
    await page.getByText('No runs match these filters').waitFor()
    await page.getByRole('button', { name: 'Clear filters' }).first().click()
    await page.waitForURL((url) => url.search === '')
    await page.getByTestId('run-row').nth(1).waitFor() // both runs are back
    await shot('runs')
  })

  await step('workers page updates live as workers come and go', async () => {
    await page.goto(`${base}/workers`)
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor()
    await page.getByTestId('worker-row').first().waitFor()
    const before = await page.getByTestId('worker-row').count()
    const headers = { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' }
    const registered = await fetch(`${base}/api/v1/workers`, {
      method: 'POST', headers, body: JSON.stringify({ name: 'e2e-live', actions: ['hello-kiln:greet'], slots: 2 }),
    })
    expect(registered.status === 201, `registering a worker answers ${registered.status}`)
    const { id } = await registered.json()
    const row = page.getByTestId('worker-row').filter({ hasText: 'e2e-live' })
    await row.waitFor() // no reload: the stream's workers event brought it in
    expect((await page.getByTestId('worker-row').count()) === before + 1, 'one more worker listed')
    await fetch(`${base}/api/v1/workers/${id}`, { method: 'DELETE', headers })
    await page.getByTestId('worker-row').filter({ hasText: 'e2e-live' }).and(page.locator('[data-status="stopped"]')).waitFor()
  })

  await step('limits page: set a rate limit with the form, see its usage', async () => {
    await page.goto(`${base}/limits`)
    await page.getByRole('heading', { name: 'Rate limits & concurrency' }).waitFor()
    await page.getByText('No rate limits yet').waitFor()
    await page.getByRole('button', { name: 'Set a limit' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Key').fill('crm-api')
    await dialog.getByLabel('Units').fill('100')
    await dialog.getByLabel('Per').selectOption('second')
    await dialog.getByLabel('Units').press('Enter') // keyboard submit
    const row = page.getByTestId('rate-limit-row').filter({ hasText: 'crm-api' })
    await row.waitFor()
    expect((await row.textContent())?.includes('100 / second') ?? false, 'the row shows the limit')
    await page.getByText('No concurrency keys in use').waitFor()
    await shot('limits')
  })

  await step('data retention: save 0.5 days with the form, a reload shows it', async () => {
    await page.getByRole('link', { name: 'Data retention', exact: true }).click()
    await page.getByTestId('retention-current').filter({ hasText: /^30 days$/ }).waitFor() // the default
    const days = page.getByLabel('Keep finished runs for')
    await days.fill('5000')
    await days.press('Enter') // keyboard submit; refused before it reaches the server
    await page.getByText('At most 3650 days (10 years).').waitFor()
    await days.fill('0.5')
    await days.press('Enter')
    await page.getByRole('status').filter({ hasText: 'Saved: finished runs are kept for 0.5 days.' }).waitFor()
    await shot('retention')
    await page.reload()
    await page.getByTestId('retention-current').filter({ hasText: /^0\.5 days$/ }).waitFor()
    expect((await page.getByTestId('retention-hint').textContent()) === '12 hours', 'the hint says 12 hours')
    expect((await days.inputValue()) === '0.5', 'the form starts at the stored value')
  })

  await step('the key works against the API', async () => {
    const response = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } })
    expect(response.ok, `GET /api/v1/me with the key answers ${response.status}`)
  })

  await step('API keys page lists the key without its secret', async () => {
    await page.getByRole('link', { name: 'API keys', exact: true }).click()
    await page.waitForURL(/\/settings\/api-keys$/)
    const row = page.getByTestId('api-key-row').filter({ hasText: 'first-worker' })
    await row.waitFor()
    expect(((await row.textContent()) ?? '').includes(secret.slice(0, 13)), 'the row shows the key prefix')
    const html = await page.content()
    expect(!html.includes(secret), 'the secret is not on the page')
    await shot('api-keys')
  })

  await step('create a second key with the dialog', async () => {
    await page.getByRole('button', { name: 'Create API key' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Name').fill('ci-trigger')
    await dialog.getByLabel('worker', { exact: true }).uncheck()
    await dialog.getByLabel('trigger', { exact: true }).check()
    await dialog.getByLabel('Expires').selectOption('30')
    await dialog.getByRole('button', { name: 'Create key' }).click()
    await dialog.getByText('API key “ci-trigger” created').waitFor()
    await shot('api-key-created')
    await dialog.getByRole('button', { name: 'Done, I saved it' }).click()
    await page.getByTestId('api-key-row').filter({ hasText: 'ci-trigger' }).waitFor()
  })

  const friend = `friend-${Date.now()}@example.com`
  // The friend already has an account (and tenant) of their own.
  const friendContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  friendContext.setDefaultTimeout(10_000)
  const friendPage = await friendContext.newPage()
  openPages.set('friend', friendPage)
  await step('a second person signs up with their own tenant', async () => {
    await friendPage.goto(`${base}/signup`)
    await friendPage.getByLabel('E-mail').fill(friend)
    await friendPage.getByLabel('Password').fill(password)
    await friendPage.getByLabel('Organization').fill('Friend Co')
    await friendPage.getByRole('button', { name: 'Create account' }).click()
    await friendPage.waitForURL(/\/onboarding$/)
  })

  const inviteUrl = await step('members page: invite them, link shown once', async () => {
    await page.getByRole('link', { name: 'Members', exact: true }).click()
    await page.getByRole('cell', { name: /E2E Tester/ }).waitFor()
    await page.getByRole('button', { name: 'Invite member' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('E-mail').fill(friend)
    await dialog.getByLabel('Role').selectOption('viewer')
    await dialog.getByRole('button', { name: 'Create invite' }).click()
    const link = dialog.locator('pre code').filter({ hasText: `${base}/invite?token=` })
    await link.waitFor()
    const url = ((await link.textContent()) ?? '').trim()
    await dialog.getByRole('button', { name: 'Done' }).click()
    await page.getByRole('table', { name: 'Invites' }).getByText(friend).waitFor()
    await shot('members')
    return url
  })

  await step('they accept the invite and switch between their tenants', async () => {
    await friendPage.goto(inviteUrl)
    await friendPage.getByText(`You are logged in as ${friend}`).waitFor()
    await friendPage.getByRole('button', { name: 'Accept invite' }).click()
    await friendPage.waitForURL(/\/overview$/)
    expect((await friendPage.getByTestId('current-tenant').textContent()) === 'E2E Org', 'the invite opens the inviting tenant')
    await friendPage.getByRole('button', { name: /Switch tenant/ }).click()
    await friendPage.getByRole('menuitem', { name: /Friend Co/ }).click()
    await friendPage.getByText('Switched to Friend Co').first().waitFor()
    expect((await friendPage.getByTestId('current-tenant').textContent()) === 'Friend Co', 'the switcher changes tenant')
    // As a viewer in E2E Org they could not manage members; in their own tenant they are owner.
    await friendPage.getByRole('link', { name: 'Members', exact: true }).click()
    await friendPage.getByRole('button', { name: 'Invite member' }).waitFor()
    openPages.delete('friend')
    await friendContext.close()
  })

  await step('audit log records the actions', async () => {
    await page.getByRole('link', { name: 'Audit log', exact: true }).click()
    await page.getByRole('table', { name: 'Audit log' }).getByText('api_key.created').first().waitFor()
    await shot('audit')
  })

  await step('alerts: add an e-mail channel through its JSON-Schema form', async () => {
    await page.getByRole('link', { name: 'Alerts', exact: true }).click()
    await page.getByRole('button', { name: 'Add channel' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Type').selectOption({ label: 'E-mail' })
    await dialog.getByLabel(/^Name/).fill('on-call mail')
    await dialog.getByRole('button', { name: 'Add channel' }).click()
    await dialog.getByText('Required.').first().waitFor() // recipients are required by the schema
    await dialog.getByRole('button', { name: 'Add one' }).click()
    await dialog.getByRole('textbox', { name: 'Recipients 1' }).fill('not-an-address')
    await dialog.getByText('Enter an e-mail address, like name@example.com.').waitFor()
    await dialog.getByRole('textbox', { name: 'Recipients 1' }).fill('oncall@example.com')
    await dialog.getByLabel('Task timed out').check()
    await shot('alerts-add-channel')
    await dialog.getByRole('button', { name: 'Add channel' }).click()
    await page.getByTestId('channel-row').filter({ hasText: 'on-call mail' }).waitFor()
    await shot('alerts')
  })

  await step('events: push one and see it listed', async () => {
    await page.getByRole('link', { name: 'Events', exact: true }).click()
    await page.getByRole('button', { name: 'Push event' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Key').fill('order:created')
    await dialog.getByLabel('Payload (JSON)').fill('{"id": 7}')
    await dialog.getByRole('button', { name: 'Push event' }).click()
    await page.getByRole('table', { name: 'Events' }).getByText('order:created').waitFor()
    await shot('events')
  })

  await step('webhooks: create one, URL and secret shown once', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
    await page.getByRole('button', { name: 'Create webhook' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Name').fill('github')
    await dialog.getByLabel('Event key').fill('github:push')
    await dialog.getByLabel('Verifier').selectOption('hmac-sha256')
    await dialog.getByRole('button', { name: 'Create webhook' }).click()
    await dialog.locator('pre code').filter({ hasText: `${base}/hooks/` }).waitFor()
    await dialog.getByRole('button', { name: 'Done' }).click()
    await page.getByRole('table', { name: 'Webhooks' }).getByText('github:push').waitFor()
    await shot('webhooks')
  })

  await step('log out', async () => {
    await page.getByRole('button', { name: 'Account menu' }).click()
    await page.getByRole('menuitem', { name: 'Log out' }).click()
    await page.waitForURL(/\/login/)
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status)
    expect(me === 401, `after logout /api/v1/me answers 401 (got ${me})`)
  })

  await step('log in again', async () => {
    await page.getByLabel('E-mail').fill(email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL((url) => !url.pathname.startsWith('/login'))
    await page.getByTestId('current-tenant').waitFor()
  })

  for (const [name, path, heading] of [
    ['overview', '/overview', 'Runs over time'], // the lazily loaded charts
    ['workflows', '/workflows', 'Workflows'],
    ['workflow', '/workflows/hello-kiln', 'hello-kiln'],
    ['workers', '/workers', 'Workers'],
    ['schedules', '/schedules', 'Crons & schedules'],
  ]) {
    await step(`screenshot ${name}`, async () => {
      await page.goto(`${base}${path}`)
      await page.getByRole('heading', { name: heading }).first().waitFor()
      await shot(name)
    })
  }

  await step('dark theme', async () => {
    await page.getByRole('button', { name: 'Switch to dark theme' }).click()
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark')), 'html has the dark class')
    await page.goto(`${base}/settings/api-keys`)
    await page.getByTestId('api-key-row').first().waitFor()
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark')), 'the choice persists across loads')
    await shot('api-keys-dark')
    await page.goto(`${base}/limits`)
    await page.getByTestId('rate-limit-row').first().waitFor()
    await shot('limits-dark')
  })

  await step('deep link to an unknown page shows not-found', async () => {
    await page.goto(`${base}/no/such/page`)
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()
  })

  expect(consoleErrors.length === 0, `no browser console errors:\n${consoleErrors.join('\n')}`)
} catch (error) {
  failed = true
  for (const [name, p] of openPages) {
    await p.screenshot({ path: join(shots, `FAILED-${name}.png`), fullPage: true }).catch(() => {})
  }
  console.error(error instanceof Error ? error.stack ?? error.message : error)
  if (server) console.error(`--- server output (last lines) ---\n${server.output.slice(-20).join('\n')}`)
  if (workerOutput.length) console.error(`--- worker output ---\n${workerOutput.join('').slice(-3000)}`)
} finally {
  await browser?.close().catch(() => {})
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker?.once('exit', r))
    worker.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL')
  }
  await server?.stop()
  rmSync(workDir, { recursive: true, force: true })
}
log(`${failed ? 'FAILED' : 'passed'}: ${passed} steps; screenshots in ${shots}`)
process.exit(failed ? 1 : 0)
