/**
 * Where the worker scripts are. Each `new URL('./x.js', import.meta.url)` is written out in full,
 * inside the `new Worker(...)` call, because that literal form is what Vite and webpack 5
 * recognise to bundle a worker and rewrite its URL; a computed URL would be lost in a user's build.
 * The `workerUrl`/`coordinatorUrl` options override them (a CDN, a strict CSP).
 */

export function startTabWorker(override: string | URL | undefined, name: string): Worker {
  if (override) return new Worker(override, { type: 'module', name })
  return new Worker(new URL('./tab-worker.js', import.meta.url), { type: 'module', name })
}

export function startCoordinator(override: string | URL | undefined, name: string): SharedWorker {
  if (override) return new SharedWorker(override, { type: 'module', name })
  return new SharedWorker(new URL('./coordinator.js', import.meta.url), { type: 'module', name })
}

/** The coordinator script as a DedicatedWorker: this tab hosts the Web Locks coordinator. */
export function startCoordinatorHost(override: string | URL | undefined, name: string): Worker {
  if (override) return new Worker(override, { type: 'module', name })
  return new Worker(new URL('./coordinator.js', import.meta.url), { type: 'module', name })
}
