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
  // Parity: the skeleton, failover and migration specs run against both coordinators.
  projects: [
    { name: 'shared-worker', metadata: { dialectOptions: {} } },
    {
      name: 'web-locks',
      testMatch: /(skeleton|failover|migrations|changes|warm-standby|asset-failure)\.spec\.ts$/,
      metadata: { dialectOptions: { coordinator: 'web-locks' } },
    },
  ],
  webServer: {
    command: `node scripts/serve.mjs --port ${E2E_PORT}`,
    url: `http://127.0.0.1:${E2E_PORT}/e2e/pages/harness.html`,
    reuseExistingServer: !process.env.CI,
    stdout: 'ignore',
  },
})
