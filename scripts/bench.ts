/**
 * Benchmark of the order-sign service, in one run, loopback only, under two minutes:
 *
 *   npm run bench            (node dist/scripts/bench.js [--quick])
 *
 * The service runs in this process, composed as in production (prom-client metrics, the
 * breaker-wrapped fhir-kit-client gateway, silent logs, development mode so no JWT check). The
 * load generator (autocannon) runs in a child process, so this process's CPU time per request is
 * the service's own cost (a figure that stays meaningful on a busy machine, unlike requests/s);
 * the in-memory FHIR server runs in a worker thread, off the service's event loop.
 *
 *   a. order-sign, 40 prefetched Conditions (coded and text, one cervical stenosis) + a neck massage order
 *   b. the same with 2,000 Conditions
 *   c. a bare Express endpoint that only parses the same bodies and answers {"cards":[]}
 *      (and, for reference, one answering with the service's own card instead)
 *   d. no prefetch: Conditions and Procedures read from an in-memory FHIR server answering after 20 ms
 *   e. sequential latency at 40 / 250 / 1,000 / 2,000 Conditions
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request as httpRequest, type Server } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import autocannon, { type AutocannonResult } from 'autocannon';
import express from 'express';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createGatewayFromConfig } from '../src/fhir/create-gateway.js';
import { createOpsRouter } from '../src/http/ops-routes.js';
import { loadKnowledge } from '../src/knowledge/load-knowledge.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/ops/metrics.js';
import { startFhirMemoryServer } from './lib/fhir-memory-server.js';

const PATIENT_ID = 'bench-patient';
const SERVICE_PATH = '/cds-services/spine-safety-order-sign';
const FHIR_LATENCY_MS = 20;
const CONNECTIONS = 10;

type Json = Record<string, unknown>;

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const SNOMED = 'http://snomed.info/sct';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

/** A problem list like a primary-care chart's: SNOMED, ICD-10-CM, both, or free text only. */
const PROBLEMS: ReadonlyArray<{ codings: Array<[string, string, string]>; text?: string }> = [
  { codings: [[SNOMED, '38341003', 'Hypertensive disorder, systemic arterial']] },
  { codings: [[ICD10CM, 'E11.9', 'Type 2 diabetes mellitus without complications']] },
  { codings: [[SNOMED, '55822004', 'Hyperlipidemia'], [ICD10CM, 'E78.5', 'Hyperlipidemia, unspecified']] },
  { codings: [], text: 'Chronic low back pain, mechanical' },
  { codings: [[SNOMED, '195967001', 'Asthma']] },
  { codings: [[ICD10CM, 'K21.9', 'Gastro-esophageal reflux disease without esophagitis']] },
  { codings: [[SNOMED, '35489007', 'Depressive disorder']], text: 'Depression, in remission on sertraline' },
  { codings: [], text: 'Seasonal allergic rhinitis' },
  { codings: [[ICD10CM, 'M17.11', 'Unilateral primary osteoarthritis, right knee']] },
  { codings: [[SNOMED, '40930008', 'Hypothyroidism']] },
  { codings: [], text: 'Tension-type headache, episodic; no neurological deficit' },
  { codings: [[ICD10CM, 'G47.33', 'Obstructive sleep apnea (adult)']] },
  { codings: [[SNOMED, '49436004', 'Atrial fibrillation'], [ICD10CM, 'I48.91', 'Unspecified atrial fibrillation']] },
  { codings: [], text: 'Plantar fasciitis, left foot' },
  { codings: [[ICD10CM, 'M54.2', 'Cervicalgia']], text: 'Neck pain after whiplash, 2019' },
  { codings: [[SNOMED, '271737000', 'Anemia']] },
  { codings: [[ICD10CM, 'N18.3', 'Chronic kidney disease, stage 3 (moderate)']] },
  { codings: [], text: 'Rotator cuff tendinopathy, right shoulder' },
  { codings: [[SNOMED, '414916001', 'Obesity']] },
  { codings: [[ICD10CM, 'F41.1', 'Generalized anxiety disorder']] },
];

const CERVICAL_STENOSIS: { codings: Array<[string, string, string]> } = {
  codings: [[ICD10CM, 'M48.02', 'Spinal stenosis, cervical region'], [SNOMED, '427351004', 'Cervical spinal stenosis']],
};

function condition(index: number, problem: { codings: Array<[string, string, string]>; text?: string }): Json {
  const year = 2005 + (index % 19);
  const month = String(1 + (index % 12)).padStart(2, '0');
  return {
    resourceType: 'Condition',
    id: `cond-${index}`,
    meta: { versionId: '1', lastUpdated: `${year}-${month}-15T10:00:00Z` },
    clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: index % 9 === 4 ? 'resolved' : 'active' }] },
    verificationStatus: { coding: [{ system: CONDITION_VERIFICATION, code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }] }],
    code: {
      ...(problem.codings.length > 0 ? { coding: problem.codings.map(([system, code, display]) => ({ system, code, display })) } : {}),
      ...(problem.text ? { text: problem.text } : {}),
    },
    subject: { reference: `Patient/${PATIENT_ID}` },
    onsetDateTime: `${year}-${month}-01`,
    recordedDate: `${year}-${month}-15`,
    recorder: { reference: 'Practitioner/pr-1', display: 'Dr. A. Example' },
  };
}

/** `count` Conditions, exactly one of them cervical stenosis. */
function conditions(count: number): Json[] {
  const stenosisAt = Math.floor(count / 2);
  return Array.from({ length: count }, (_, i) => condition(i, i === stenosisAt ? CERVICAL_STENOSIS : (PROBLEMS[i % PROBLEMS.length] ?? { codings: [] })));
}

function procedures(): Json[] {
  const done = (id: string, code: string, display: string, date: string): Json => ({
    resourceType: 'Procedure',
    id,
    status: 'completed',
    code: { coding: [{ system: SNOMED, code, display }] },
    subject: { reference: `Patient/${PATIENT_ID}` },
    performedDateTime: date,
  });
  return [
    done('proc-1', '80146002', 'Appendectomy', '1998-06-02'),
    done('proc-2', '73761001', 'Colonoscopy', '2021-09-14'),
    done('proc-3', '386638009', 'Arthroscopy of knee joint', '2016-03-30'),
  ];
}

const PATIENT: Json = {
  resourceType: 'Patient',
  id: PATIENT_ID,
  name: [{ family: 'Bench', given: ['Pat'] }],
  gender: 'female',
  birthDate: '1961-04-12',
};

const MASSAGE_ORDER: Json = {
  resourceType: 'ServiceRequest',
  id: 'sr-massage',
  status: 'draft',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT_ID}` },
  code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97124', display: 'Massage therapy' }], text: 'Massage therapy' },
  bodySite: [{ coding: [{ system: SNOMED, code: '45048000', display: 'Neck' }] }],
  authoredOn: '2026-11-30',
};

const searchset = (resources: Json[]): Json => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ fullUrl: `https://ehr.example.org/fhir/${String(resource['resourceType'])}/${String(resource['id'])}`, resource, search: { mode: 'match' } })),
});

function hookRequest(prefetch: Json | undefined, fhirServer?: string): string {
  return JSON.stringify({
    hook: 'order-sign',
    hookInstance: 'b3f1c0de-0000-4000-8000-000000000001',
    ...(fhirServer ? { fhirServer } : {}),
    context: {
      userId: 'Practitioner/pr-1',
      patientId: PATIENT_ID,
      encounterId: 'enc-1',
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: MASSAGE_ORDER }] },
    },
    ...(prefetch ? { prefetch } : {}),
  });
}

function prefetchedBody(conditionCount: number): string {
  return hookRequest({ patient: PATIENT, conditions: searchset(conditions(conditionCount)), procedures: searchset(procedures()) });
}

interface FhirWorkerData {
  readonly role: 'fhir-server';
  readonly latencyMs: number;
  readonly seed: Json[];
}

function isFhirWorkerData(value: unknown): value is FhirWorkerData {
  return typeof value === 'object' && value !== null && 'role' in value && value.role === 'fhir-server';
}

/** In the FHIR worker thread: serve until the main thread says stop. */
async function runFhirWorker(data: FhirWorkerData): Promise<void> {
  const fhir = await startFhirMemoryServer({ latencyMs: data.latencyMs, recordRequests: false });
  await fhir.seed(data.seed);
  parentPort?.postMessage(fhir.baseUrl);
  parentPort?.once('message', () => {
    void fhir.close().then(() => process.exit(0));
  });
}

/** Starts the in-memory FHIR server in a worker thread; resolves with its base URL and a stop function. */
async function startFhirWorker(latencyMs: number, seed: Json[]): Promise<{ baseUrl: string; stop: () => Promise<void> }> {
  const data: FhirWorkerData = { role: 'fhir-server', latencyMs, seed };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const [baseUrl]: unknown[] = await once(worker, 'message');
  if (typeof baseUrl !== 'string') throw new Error('FHIR worker did not report its URL');
  return {
    baseUrl,
    stop: async () => {
      worker.postMessage('stop');
      await once(worker, 'exit');
    },
  };
}

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  server.keepAliveTimeout = 65_000;
  return { server, url: `http://127.0.0.1:${address.port}` };
}

/** One POST, resolving with status and body; used for checks and the sequential scans. */
function post(url: string, body: string, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Row {
  readonly name: string;
  readonly bodyKb: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU time of this process (service, GC threads, FHIR worker if any) per completed request. */
  readonly cpuUs: number;
  readonly errors: number;
}

/** What the load-generator child is asked to run and answers. */
interface LoadJob {
  readonly url: string;
  readonly body: string;
  readonly seconds: number;
}

interface LoadSummary {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly total: number;
  readonly errors: number;
}

function isLoadJob(value: unknown): value is LoadJob {
  return typeof value === 'object' && value !== null && 'url' in value && typeof value.url === 'string' && 'body' in value && typeof value.body === 'string' && 'seconds' in value && typeof value.seconds === 'number';
}

function isLoadSummary(value: unknown): value is LoadSummary {
  return typeof value === 'object' && value !== null && ['rps', 'p50', 'p99', 'total', 'errors'].every((key) => typeof Reflect.get(value, key) === 'number');
}

/** In the load-generator child: run each job with autocannon and send the summary back. */
function runLoadGenerator(): void {
  process.on('message', (job: unknown) => {
    if (!isLoadJob(job)) {
      process.exit(0);
    }
    autocannon({ url: job.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: job.body, connections: CONNECTIONS, duration: job.seconds, timeout: 10 }).then(
      (result: AutocannonResult) => {
        const summary: LoadSummary = {
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          total: result.requests.total,
          errors: result.errors + result.timeouts + result.non2xx,
        };
        process.send?.(summary);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

async function runJob(child: ChildProcess, job: LoadJob): Promise<LoadSummary> {
  child.send(job);
  const [summary]: unknown[] = await once(child, 'message');
  if (!isLoadSummary(summary)) throw new Error('load generator sent an unexpected message');
  return summary;
}

async function load(child: ChildProcess, name: string, url: string, body: string, seconds: number, warmupSeconds: number): Promise<Row> {
  await runJob(child, { url, body, seconds: warmupSeconds });
  const cpuBefore = process.cpuUsage();
  const result = await runJob(child, { url, body, seconds });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    name,
    bodyKb: Math.round(Buffer.byteLength(body) / 1024),
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    cpuUs: (cpu.user + cpu.system) / Math.max(1, result.total),
    errors: result.errors,
  };
}

interface Scan {
  readonly label: string;
  readonly bodyKb: number;
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** Sequential requests on one keep-alive connection: per-request latency with sub-millisecond resolution. */
async function scan(label: string, url: string, body: string, seconds: number, agent: Agent): Promise<Scan> {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) await post(url, body, agent);
  const samples: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until || samples.length < 50) {
    const started = performance.now();
    const { status } = await post(url, body, agent);
    samples.push(performance.now() - started);
    if (status !== 200) throw new Error(`${label}: status ${status}`);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? Number.NaN;
  return { label, bodyKb: Math.round(Buffer.byteLength(body) / 1024), n: samples.length, p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function checkOneCard(url: string, body: string, agent: Agent, label: string): Promise<string> {
  const { status, text } = await post(url, body, agent);
  const parsed: unknown = JSON.parse(text);
  const cards = typeof parsed === 'object' && parsed !== null && 'cards' in parsed ? parsed.cards : undefined;
  if (status !== 200 || !Array.isArray(cards) || cards.length !== 1) throw new Error(`check failed for ${label}: ${status} ${text.slice(0, 300)}`);
  return text;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } }, strict: true });
  const seconds = values.quick ? 2 : 6;
  const warmup = values.quick ? 1 : 2;
  const scanSeconds = values.quick ? 1 : 2.5;
  const startedAt = performance.now();

  const config = loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent' });
  const knowledge = loadKnowledge();
  const logger = createLogger('silent');
  const metrics = createMetrics();
  const gateway = createGatewayFromConfig(config, metrics);
  const service = await listen(
    createApp({
      config,
      knowledge,
      logger,
      metrics,
      gateway,
      publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: async () => ({ ready: true, checks: { knowledge: 'ok' } }) })],
    }),
  );

  const parseLikeTheService = express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] });
  let cardResponse = '{"cards":[]}';
  const bareApp = express();
  bareApp.disable('x-powered-by');
  bareApp.set('etag', false);
  bareApp.post('/cds-services/:id', parseLikeTheService, (_req, res) => {
    res.json({ cards: [] });
  });
  bareApp.post('/same-answer', parseLikeTheService, (_req, res) => {
    res.type('application/json').send(cardResponse);
  });
  const bare = await listen(bareApp);

  const body40 = prefetchedBody(40);
  const body2000 = prefetchedBody(2000);
  const serviceUrl = `${service.url}${SERVICE_PATH}`;
  const bareUrl = `${bare.url}${SERVICE_PATH}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  cardResponse = await checkOneCard(serviceUrl, body40, agent, '40 Conditions');
  await checkOneCard(serviceUrl, body2000, agent, '2,000 Conditions');
  console.log(`node ${process.version}, ${cpus().length} CPUs; ${CONNECTIONS} connections, ${seconds} s per case after a warm-up\n`);

  const child = fork(fileURLToPath(import.meta.url), ['--load-generator'], { stdio: 'inherit' });
  const bare40 = await load(child, 'bare Express, 40-Condition body', bareUrl, body40, seconds, 1);
  const bareCard = await load(child, `bare Express, 40-Condition body, answers the card (${Buffer.byteLength(cardResponse)} B)`, `${bare.url}/same-answer`, body40, seconds, 1);
  const svc40 = await load(child, 'order-sign, 40 Conditions prefetched', serviceUrl, body40, seconds, warmup);
  const bare2000 = await load(child, 'bare Express, 2,000-Condition body', bareUrl, body2000, seconds, 1);
  const svc2000 = await load(child, 'order-sign, 2,000 Conditions prefetched', serviceUrl, body2000, seconds, warmup);

  const scans: Scan[] = [];
  for (const count of [40, 250, 1000, 2000]) {
    scans.push(await scan(`${count} Conditions`, serviceUrl, count === 40 ? body40 : count === 2000 ? body2000 : prefetchedBody(count), scanSeconds, agent));
  }
  for (const count of [40, 2000]) {
    scans.push(await scan(`bare, ${count}-Condition body`, bareUrl, count === 40 ? body40 : body2000, scanSeconds, agent));
  }
  const serviceRssMb = peakRssMb();

  // The FHIR server starts only now, so the peak RSS above is the service's own.
  const fhir = await startFhirWorker(FHIR_LATENCY_MS, [PATIENT, ...conditions(40), ...procedures()]);
  const bodyFallback = hookRequest(undefined, fhir.baseUrl);
  await checkOneCard(serviceUrl, bodyFallback, agent, 'fallback');
  const fallback = await load(child, `order-sign, no prefetch, FHIR server at ${FHIR_LATENCY_MS} ms`, serviceUrl, bodyFallback, seconds, warmup);
  const fallbackScan = await scan(`fallback, FHIR at ${FHIR_LATENCY_MS} ms`, serviceUrl, bodyFallback, scanSeconds, agent);
  scans.push(fallbackScan);

  const rows: Row[] = [svc40, bare40, bareCard, svc2000, bare2000, fallback];
  const ratio = new Map<Row, number>([
    [svc40, svc40.rps / bare40.rps],
    [bareCard, bareCard.rps / bare40.rps],
    [svc2000, svc2000.rps / bare2000.rps],
  ]);
  const cpuRatio = new Map<Row, number>([
    [svc40, bare40.cpuUs / svc40.cpuUs],
    [bareCard, bare40.cpuUs / bareCard.cpuUs],
    [svc2000, bare2000.cpuUs / svc2000.cpuUs],
  ]);
  const fixed = (map: Map<Row, number>, r: Row) => (map.has(r) ? (map.get(r) ?? 0).toFixed(2) : r === bare40 || r === bare2000 ? '1.00' : '-');
  printTable(
    ['case', 'body KB', 'req/s', 'p50 ms', 'p99 ms', 'x bare', 'CPU µs/req', 'x bare (CPU)', 'errors'],
    rows.map((r) => [r.name, String(r.bodyKb), r.rps.toFixed(0), String(r.p50), String(r.p99), fixed(ratio, r), r.cpuUs.toFixed(0), fixed(cpuRatio, r), String(r.errors)]),
  );
  console.log('x bare (CPU) = bare CPU per request / this CPU per request: the throughput ratio on a machine with a core to spare.');
  console.log('The fallback row\'s CPU includes the FHIR server thread.');

  console.log('\nSequential requests (one keep-alive connection), latency in ms:');
  printTable(
    ['case', 'body KB', 'n', 'p50', 'p99', 'mean'],
    scans.map((s) => [s.label, String(s.bodyKb), String(s.n), ms(s.p50), ms(s.p99), ms(s.mean)]),
  );
  const first = scans[0];
  const last = scans[3];
  if (first && last) {
    console.log(`\nslope: ${((1000 * (last.mean - first.mean)) / (2000 - 40)).toFixed(1)} µs per extra Condition (mean, 40 -> 2,000)`);
  }
  const trips = fallbackScan.p50 / FHIR_LATENCY_MS;
  console.log(
    `fallback: p50 ${ms(fallbackScan.p50)} ms sequential, ${trips.toFixed(2)} x the ${FHIR_LATENCY_MS} ms round trip (parallel reads ~1x, one after the other >= 2x); p50 ${fallback.p50} ms under ${CONNECTIONS} connections`,
  );
  console.log(`peak RSS: ${serviceRssMb.toFixed(0)} MB service alone, ${peakRssMb().toFixed(0)} MB with the FHIR server thread (the load generator is a separate process); total ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);

  child.send('stop');
  agent.destroy();
  gateway.close();
  await fhir.stop();
  for (const server of [service.server, bare.server]) {
    server.closeAllConnections();
    server.close();
  }
}

const fail = (error: unknown): void => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
};

if (isMainThread && process.argv.includes('--load-generator')) {
  runLoadGenerator();
} else if (isMainThread) {
  main().then(() => process.exit(0), fail);
} else if (isFhirWorkerData(workerData)) {
  runFhirWorker(workerData).catch(fail);
}
