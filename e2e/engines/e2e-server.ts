// The e2e server (scripts/serve.mjs) as a child process, on a fixed port: OPFS storage is per
// origin, so the browser must find the same origin after a restart.
import { spawn } from 'node:child_process'
import { join } from 'node:path'

export interface E2eServer {
  readonly baseURL: string
  stop(): void
}

export function startE2eServer(root: string, port: number): Promise<E2eServer> {
  const child = spawn(process.execPath, [join(root, 'scripts/serve.mjs'), '--port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const baseURL = `http://127.0.0.1:${port}`
  return new Promise((resolve, reject) => {
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk
      // It says so once it listens: a server already on the port (someone else's) is no answer.
      if (output.includes(`Serving `)) resolve({ baseURL, stop: () => void child.kill() })
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the e2e server exited (${code}): ${output.trim()}`)))
  })
}
