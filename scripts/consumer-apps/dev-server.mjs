// Vite's dev server (`vite`) on 127.0.0.1, on a free port, for the same browser test.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/**
 * Starts `vite` in the app `dir` (with `configFile`, if given; --force: no pre-bundle cache of an
 * earlier run). Resolves to { url, output(), stop() } once it listens.
 */
export async function startViteDev({ dir, configFile, timeoutMs = 60_000 }) {
  const port = await freePort()
  const args = ['--host', '127.0.0.1', '--port', String(port), '--strictPort', '--force', '--clearScreen', 'false']
  if (configFile) args.push('--config', configFile)
  const child = spawn(join(dir, 'node_modules/.bin/vite'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const url = `http://127.0.0.1:${port}/`
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vite dev did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs)
    const onData = (chunk) => {
      output += chunk
      if (output.includes(url)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`vite dev exited (${code}):\n${output}`))
    })
  }).catch(async (error) => {
    await stop()
    throw error
  })
  return { url, output: () => output, stop }
}
