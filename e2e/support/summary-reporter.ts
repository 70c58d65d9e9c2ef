import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter'

/** Prints one closing line, `e2e: N passed, M failed`, that CI can read. */
export default class SummaryReporter implements Reporter {
  #passed = 0
  #failed = 0
  #skipped = 0

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status === 'skipped') this.#skipped++
    else if (test.outcome() === 'expected' || test.outcome() === 'flaky') this.#passed++
    else if (result.retry === test.retries) this.#failed++
  }

  onEnd(_result: FullResult): void {
    const skipped = this.#skipped ? `, ${this.#skipped} skipped` : ''
    console.log(`e2e: ${this.#passed} passed, ${this.#failed} failed${skipped}`)
  }
}
