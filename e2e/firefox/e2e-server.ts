// The e2e server (scripts/serve.mjs) as a child process, on a fixed port: OPFS storage is per
// origin, so the browser must find the same origin after a restart.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export interface E2eServer {
  readonly baseURL: string
  stop(): void
}

export async function startE2eServer(root: string, port: number): Promise<E2eServer> {
  const baseURL = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts/serve.mjs'), '--port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the e2e server exited (${code}): ${stderr.trim()}`))),
  )
  const deadline = Date.now() + 10_000
  const ready = (async () => {
    for (;;) {
      const ok = await fetch(`${baseURL}/e2e/pages/harness.html`).then((r) => r.ok, () => false)
      if (ok) return
      if (Date.now() > deadline) throw new Error(`the e2e server did not answer on ${baseURL}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  try {
    await Promise.race([ready, exited])
  } catch (error) {
    child.kill()
    throw error
  }
  exited.catch(() => {}) // stopping it later is not an error
  return { baseURL, stop: () => void child.kill() }
}
