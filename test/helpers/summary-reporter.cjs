/**
 * Prints the run's totals as one plain line ("jest: N passed, N failed, N skipped") for CI logs.
 * With CI=true a skipped test fails the run: on CI every suite must run (chromium and PostgreSQL
 * are installed by .ci/run), so a skip there means something is missing.
 */
class SummaryReporter {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.skipped = 0;
    this.skippedNames = [];
    this.error = undefined;
  }

  onTestResult(_test, result) {
    this.passed += result.numPassingTests;
    this.failed += result.numFailingTests + (result.testExecError ? 1 : 0);
    this.skipped += result.numPendingTests + result.numTodoTests;
    for (const test of result.testResults) {
      if (test.status === 'pending' || test.status === 'todo' || test.status === 'skipped') this.skippedNames.push(test.fullName);
    }
  }

  onRunComplete() {
    process.stdout.write(`\njest: ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped\n`);
    if (process.env.CI === 'true' && this.skipped > 0) {
      const names = this.skippedNames.map((name) => `  - ${name}`).join('\n');
      process.stdout.write(`jest: CI=true and ${this.skipped} tests were skipped; every suite must run on CI:\n${names}\n`);
      this.error = new Error(`${this.skipped} tests skipped with CI=true`);
    }
  }

  getLastError() {
    return this.error;
  }
}
module.exports = SummaryReporter;
