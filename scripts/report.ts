import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { describeCards, describeReport } from '../src/store/describe-report.js';
import { loadKnowledge } from '../src/knowledge/load-knowledge.js';
import { createLogger } from '../src/logger.js';
import { createStore } from '../src/store/create-store.js';
import { parseReportRange } from '../src/store/report.js';
import { formatReportTable } from '../src/store/report-table.js';

const USAGE = `Usage: npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
Prints the card analytics report for an inclusive range of UTC days (default: the last 30 days).
Reads the store from the same environment as the service (DATABASE_URL, else DATA_DIR).`;

/** Prints the analytics report; returns the exit code (0 ok, 1 store failure, 2 usage or configuration). */
async function main(args: readonly string[]): Promise<number> {
  let values: { from?: string | undefined; to?: string | undefined; json?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const parsed = parseReportRange({ from: values.from, to: values.to }, new Date());
  if (!parsed.ok) {
    process.stderr.write(`${parsed.problems.map((problem) => `--${problem.path ?? ''}: ${problem.message}`).join('\n')}\n${USAGE}\n`);
    return 2;
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger('warn', process.stderr);
  let store;
  try {
    store = await createStore(config, logger);
  } catch (error) {
    process.stderr.write(`Cannot open the analytics store: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  try {
    const report = describeReport(await store.report(parsed.range), describeCards(loadKnowledge()));
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReportTable(report));
    return 0;
  } catch (error) {
    process.stderr.write(`Report failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
