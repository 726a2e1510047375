/**
 * Runs the in-memory FHIR R4 server for manual testing and the benchmark.
 *
 *   node dist/scripts/fhir-dev-server.js [--port 8090] [--host 127.0.0.1] [--latency-ms 20]
 *     [--base-path /fhir] [--seed fixtures/fhir/some-bundle.json ...] [--log]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadFhirDefinitions, startFhirMemoryServer } from './lib/fhir-memory-server.js';

const USAGE =
  'Usage: fhir-dev-server [--port 8090] [--host 127.0.0.1] [--latency-ms 0] [--base-path /fhir] [--seed file.json ...] [--log]';

function parseNonNegativeInteger(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new Error(`--${name} must be a non-negative integer, got "${value}"\n${USAGE}`);
  }
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string', default: '0' },
      'base-path': { type: 'string', default: '/fhir' },
      seed: { type: 'string', multiple: true, default: [] },
      log: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const startedAt = performance.now();
  loadFhirDefinitions();
  const server = await startFhirMemoryServer({
    port: parseNonNegativeInteger('port', values.port),
    host: values.host,
    latencyMs: parseNonNegativeInteger('latency-ms', values['latency-ms']),
    basePath: values['base-path'],
    recordRequests: false,
    ...(values.log
      ? { onRequest: (request) => console.log(`${request.method} ${request.url}${request.authorization ? ' (authorized)' : ''}`) }
      : {}),
  });
  for (const file of values.seed) {
    const json: unknown = JSON.parse(await readFile(file, 'utf8'));
    await server.seed(json);
    console.log(`Seeded ${file}`);
  }
  console.log(`FHIR R4 server ready at ${server.baseUrl} in ${Math.round(performance.now() - startedAt)} ms`);

  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
