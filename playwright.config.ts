import { defineConfig } from '@playwright/test'
import { chromiumArgs, chromiumExecutable } from './e2e/support/chromium.js'

export const E2E_PORT = Number(process.env.E2E_PORT ?? 4173)

export default defineConfig({
  testDir: './e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Every test opens several tabs, each with its own worker: on two cores, one test at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list'], ['./e2e/support/summary-reporter.ts']],
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    launchOptions: { executablePath: chromiumExecutable(), args: chromiumArgs },
    trace: 'off',
  },
  // Parity: the skeleton, failover and migration specs run against both coordinators, and the
  // core specs on both Kysely lines of the peer range (the installed newest, and 0.28: the harness
  // page's import map picks it, see e2e/pages/harness.html).
  projects: [
    { name: 'shared-worker', metadata: { dialectOptions: {} } },
    {
      name: 'web-locks',
      testMatch: /(skeleton|failover|migrations|changes|warm-standby|asset-failure|raw-writes)\.spec\.ts$/,
      metadata: { dialectOptions: { coordinator: 'web-locks' } },
    },
    {
      name: 'kysely-0.28',
      testMatch: /(skeleton|transaction-edges|migrations|changes|failover|connections|statement-timeout)\.spec\.ts$/,
      metadata: { dialectOptions: {}, kysely: '0.28' },
    },
  ],
  webServer: {
    command: `node scripts/serve.mjs --port ${E2E_PORT}`,
    url: `http://127.0.0.1:${E2E_PORT}/e2e/pages/harness.html`,
    reuseExistingServer: !process.env.CI,
    stdout: 'ignore',
  },
})
