// Time to first render of the runs page with 10,000 runs in the tenant, and the bytes it loads.
// Starts a real server like run.mjs (run `npm run build` first), creates the runs through the
// bulk trigger API, then opens /runs in Debian's chromium several times, cold and warm.
//
//   npm run perf                 # 10,000 runs, 5 samples each
//   KILN_PERF_RUNS=1000 npm run perf
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { startServer } from './server.mjs'

const CHROMIUM = process.env.KILN_E2E_CHROMIUM ?? '/usr/bin/chromium'
const RUNS = Number(process.env.KILN_PERF_RUNS ?? 10_000)
const SAMPLES = Number(process.env.KILN_PERF_SAMPLES ?? 5)
const frontendRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const t0 = Date.now()
const log = (/** @type {string} */ line) => console.log(`[perf +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`)

if (!existsSync(CHROMIUM)) {
  console.error(`perf: ${CHROMIUM} not found. Install it with: sudo apt-get install -y chromium`)
  process.exit(2)
}

/** @param {number[]} values */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

// Record when the first run row and the first paint happen, relative to navigation start.
const PROBE = `
  window.__kilnPerf = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.name === 'first-contentful-paint') window.__kilnPerf.fcp = entry.startTime;
  }).observe({ type: 'paint', buffered: true });
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-testid="run-row"]')) {
      requestAnimationFrame(() => { window.__kilnPerf.rows = performance.now(); });
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`

const server = await startServer({ frontendRoot, log })
/** @type {import('playwright-core').Browser | undefined} */
let browser
let failed = false
try {
  const base = server.url
  const json = async (/** @type {string} */ path, /** @type {RequestInit} */ init = {}) => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { 'Content-Type': 'application/json', ...init.headers } })
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`)
    return response.status === 204 ? null : response.json()
  }
  const email = `perf-${Date.now()}@example.com`
  const password = 'perf password 123'
  const session = await json('/api/v1/auth/signup', { method: 'POST', body: JSON.stringify({ email, password, tenant_name: 'Perf' }) })
  const auth = { Authorization: `Bearer ${session.token}` }
  await json('/api/v1/workflows', {
    method: 'POST', headers: auth,
    body: JSON.stringify({ name: 'perf', tasks: [{ name: 'a', parents: [] }, { name: 'b', parents: ['a'] }] }),
  })
  const started = Date.now()
  for (let done = 0; done < RUNS; done += 1000) {
    const n = Math.min(1000, RUNS - done)
    const runs = Array.from({ length: n }, (_, i) => ({ input: { i: done + i }, metadata: { batch: String(done / 1000) } }))
    await json('/api/v1/workflows/perf/runs/bulk', { method: 'POST', headers: auth, body: JSON.stringify({ runs }) })
  }
  log(`created ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  const apiTimes = []
  const countTimes = [] // the page's status chips: runs per status over the whole tenant
  const statsTimes = [] // the overview: percentiles over the last hour (all 10,000 runs)
  for (let i = 0; i < SAMPLES; i++) {
    let s = performance.now()
    await json('/api/v1/runs?limit=50', { headers: auth })
    apiTimes.push(performance.now() - s)
    s = performance.now()
    await json('/api/v1/runs/counts', { headers: auth })
    countTimes.push(performance.now() - s)
    s = performance.now()
    await json('/api/v1/stats/overview?window=1h', { headers: auth })
    statsTimes.push(performance.now() - s)
  }

  const chrome = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  browser = chrome

  /** @param {boolean} warm */
  const sample = async (warm) => {
    const context = await chrome.newContext({ viewport: { width: 1366, height: 860 } })
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.getByLabel('E-mail').fill(email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL((url) => !url.pathname.startsWith('/login'))
    // Let the landing page finish loading, so only what /runs needs is counted below.
    await page.waitForLoadState('networkidle')
    if (!warm) {
      // Cold: empty HTTP cache, as on a first visit (the session cookie stays).
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.clearBrowserCache')
    }
    /** @type {Set<string>} */
    const assets = new Set()
    page.on('request', (request) => {
      const url = new URL(request.url())
      if (url.pathname.startsWith('/assets/')) assets.add(url.pathname)
    })
    await page.addInitScript(PROBE)
    await page.goto(`${base}/runs`)
    // Both marks: the first paint can come after the rows are in the DOM (a sample read before
    // it had none, and its median was NaN).
    await page.waitForFunction(() => {
      const perf = /** @type {any} */ (window).__kilnPerf
      return perf?.rows !== undefined && perf?.fcp !== undefined
    }, undefined, { timeout: 30_000 })
    const result = await page.evaluate(() => /** @type {any} */ (window).__kilnPerf)
    const rowCount = await page.getByTestId('run-row').count()
    await context.close()
    return { fcp: Number(result.fcp), rows: Number(result.rows), rowCount, assets: [...assets] }
  }

  const cold = []
  const warm = []
  /** @type {string[]} */
  let assets = []
  for (let i = 0; i < SAMPLES; i++) {
    const c = await sample(false)
    cold.push(c)
    assets = c.assets
    warm.push(await sample(true))
  }
  const bytes = assets.map((path) => {
    const file = join(frontendRoot, 'dist', path)
    const raw = readFileSync(file)
    return { path, raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length }
  })
  const total = bytes.reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip }), { raw: 0, gzip: 0 })

  console.log('')
  console.log(`Runs page with ${RUNS.toLocaleString('en')} runs in the tenant (first page: ${cold[0]?.rowCount} rows), ${SAMPLES} samples, medians:`)
  console.log(`  GET /api/v1/runs?limit=50         ${median(apiTimes).toFixed(0)} ms`)
  console.log(`  GET /api/v1/runs/counts           ${median(countTimes).toFixed(0)} ms`)
  console.log(`  GET /api/v1/stats/overview?window=1h  ${median(statsTimes).toFixed(0)} ms`)
  console.log(`  cold cache: first paint ${median(cold.map((s) => s.fcp)).toFixed(0)} ms, first run row ${median(cold.map((s) => s.rows)).toFixed(0)} ms`)
  console.log(`  warm cache: first paint ${median(warm.map((s) => s.fcp)).toFixed(0)} ms, first run row ${median(warm.map((s) => s.rows)).toFixed(0)} ms`)
  console.log(`  assets loaded for /runs: ${bytes.length} files, ${(total.raw / 1024).toFixed(0)} KiB raw, ${(total.gzip / 1024).toFixed(0)} KiB gzip`)
  for (const b of bytes.sort((a, b) => b.gzip - a.gzip)) console.log(`    ${(b.gzip / 1024).toFixed(1).padStart(6)} KiB  ${b.path}`)
} catch (error) {
  failed = true
  console.error(error instanceof Error ? error.stack ?? error.message : error)
  console.error(`--- server output ---\n${server.output.slice(-20).join('\n')}`)
} finally {
  await browser?.close().catch(() => {})
  await server.stop()
}
process.exit(failed ? 1 : 0)
