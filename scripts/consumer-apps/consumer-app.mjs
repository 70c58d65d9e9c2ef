// A throwaway consumer app in the temp directory: its package.json, `npm install` of the packed
// tarball and the app's tools from the npm registry, and a way to run its commands.
import { spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Runs `command args` in `cwd` (no shell). Resolves to { ok, seconds, output } when it exits, or
 * when `timeoutMs` passes (then the process it started is killed).
 */
export function runCommand(command, args, { cwd, timeoutMs = 180_000, env } = {}) {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const done = (ok, extra = '') => {
      clearTimeout(timer)
      resolve({ ok, seconds: (Date.now() - started) / 1000, output: output + extra })
    }
    child.once('error', (error) => done(false, `\n${command}: ${error.message}`))
    child.once('exit', (code, signal) =>
      done(code === 0, timedOut ? `\n(killed after ${timeoutMs / 1000} s)` : code === 0 ? '' : `\n(exit ${code ?? signal})`),
    )
  })
}

/** Writes the app's package.json and installs `packages` (npm specs, the tarball's path among them). */
export async function createApp({ dir, name, type, packages }) {
  await mkdir(dir, { recursive: true })
  const pkg = { name, private: true, version: '0.0.0', ...(type ? { type } : {}) }
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  // --no-package-lock: each run resolves afresh, as a new user's install would.
  return runCommand('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...packages], {
    cwd: dir,
    timeoutMs: 300_000,
  })
}

/** The installed version of each package, read from the app's node_modules. */
export async function installedVersions(dir, names) {
  const versions = {}
  for (const n of names) {
    versions[n] = await readFile(join(dir, 'node_modules', n, 'package.json'), 'utf8')
      .then((text) => JSON.parse(text).version)
      .catch(() => 'not installed')
  }
  return versions
}

/** The last `lines` lines of a command's output, indented, for a failure report. */
export function tail(output, lines = 25) {
  return output
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `      ${l}`)
    .join('\n')
}
