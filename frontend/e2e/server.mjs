// Start a real Kiln server for the browser tests: a fresh KILN_HOME (embedded Postgres), the
// built SPA from frontend/dist, a free port. `stop()` is safe to call more than once.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolvePort(port))
    })
  })
}

/**
 * @param {{ frontendRoot: string, log: (line: string) => void }} options
 */
export async function startServer({ frontendRoot, log }) {
  const kiln = resolve(frontendRoot, '..', '.venv', 'bin', 'kiln')
  if (!existsSync(kiln)) throw new Error(`${kiln} not found: install the server first (ops/up or ops/test)`)
  const dist = resolve(frontendRoot, 'dist')
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html not found: run \`npm run build\` first (the e2e script builds nothing)`)
  }
  const home = mkdtempSync(join(tmpdir(), 'kiln-e2e-'))
  const port = await freePort()
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, KILN_HOME: home, KILN_FRONTEND_DIST: dist, KILN_LOG_LEVEL: 'warning' }
  delete env.KILN_DATABASE_URL
  delete env.KILN_SECRET_KEY

  const child = spawn(kiln, ['server', 'start', '--host', '127.0.0.1', '--port', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  /** @type {string[]} */
  const output = []
  const keep = (/** @type {Buffer} */ chunk) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) output.push(line)
    if (output.length > 200) output.splice(0, output.length - 200)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited = false
  child.on('exit', () => {
    exited = true
  })

  const url = `http://127.0.0.1:${port}`
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    if (!exited) {
      child.kill('SIGTERM')
      const deadline = Date.now() + 10_000
      while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      if (!exited) child.kill('SIGKILL')
      while (!exited) await new Promise((r) => setTimeout(r, 50))
    }
    rmSync(home, { recursive: true, force: true })
  }

  const started = Date.now()
  try {
    for (;;) {
      if (exited) throw new Error(`the server exited during start-up:\n${output.slice(-30).join('\n')}`)
      if (Date.now() - started > 60_000) throw new Error(`the server did not answer /api/v1/health within 60 s:\n${output.slice(-30).join('\n')}`)
      try {
        const response = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2000) })
        if (response.ok) break
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  } catch (error) {
    await stop()
    throw error
  }
  log(`server up at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (KILN_HOME=${home})`)
  return { url, stop, output }
}
