/** Prints the run's totals as one plain line ("jest: N passed, N failed, N skipped") for CI logs. */
class SummaryReporter {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.skipped = 0;
  }

  onTestResult(_test, result) {
    this.passed += result.numPassingTests;
    this.failed += result.numFailingTests + (result.testExecError ? 1 : 0);
    this.skipped += result.numPendingTests + result.numTodoTests;
  }

  onRunComplete() {
    process.stdout.write(`\njest: ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
