/**
 * Benchmark of the order-sign service against bare Express, in one run, loopback only:
 *
 *   npm run bench                      full run, about five minutes
 *   npm run bench -- --quick           about two minutes
 *   npm run bench -- --profile DIR     CPU profile of the service under the 40-Condition load, summarised
 *
 * The service runs as in production, in its own process (`dist/src/server.js`: the real
 * composition with store, recorder, metrics and info-level logs, here written to /dev/null), and
 * bare Express in another (an endpoint that only parses the same body and answers
 * {"cards":[]}). The load generator (autocannon, 20 connections) runs in this process and sends a
 * fresh `hookInstance` per call. CPU time per request is read from /proc for each server's whole
 * process tree (cluster workers included) over the requests it served: the figure that survives
 * a busy machine, unlike requests/s. Each service case is paired with bare Express: both are warmed
 * up first (the JIT compiler keeps working for seconds, and its threads' CPU would count), then
 * they take turns in short rounds and the medians are printed, with the range of the ratio.
 *
 *   a. order-sign, 40 prefetched Conditions (coded and text, one cervical stenosis) + a neck massage order,
 *      the same patient and prefetch on every call (so the prefetch parsed by an earlier call is taken);
 *      then the same with the prefetch cache off (PREFETCH_CACHE_MB=0), each call's prefetch parsed
 *   b. the same with WORKERS=2, against bare Express with two cluster workers
 *   c. suppression off and on (when the configuration knows SUPPRESSION_LOCKOUT_HOURS), a fresh patient per call
 *      (so every prefetch is new to the cache)
 *   d. sequential latency: 40 and 2,000 Conditions (the same prefetch each call, and a fresh patient each
 *      call) and one 110 KB free-text Condition, service and bare taking turns; no prefetch with a FHIR
 *      server at 20 ms, beside that server's own search time
 *   e. heap allocated per call in a steady loop (service with the same prefetch and with a fresh patient
 *      each call, bare, JSON.parse of the body alone)
 *
 * It prints figures and never asserts times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { Session } from 'node:inspector/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import autocannon, { type AutocannonRequest } from 'autocannon';
import express from 'express';
import pino from 'pino';
import { z } from 'zod';
import { buildService } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { projectRoot } from '../src/paths.js';
import { bodyTemplate, conditions, hookRequest, longTextPrefetch, patient, prefetchFor, procedures, type BodyTemplate, type Json } from './lib/bench-records.js';
import { startFhirMemoryServer } from './lib/fhir-memory-server.js';
import { cpuMicros, processTree } from './lib/process-cpu.js';

const SERVICE_PATH = '/cds-services/spine-safety-order-sign';
const FHIR_LATENCY_MS = 20;
const CONNECTIONS = 20;
const SERVER_JS = join(projectRoot(), 'dist', 'src', 'server.js');
const BENCH_JS = fileURLToPath(import.meta.url);
/** The suppression setting issue 9 adds; passed through so the bench measures it once it exists. */
const SUPPRESSION_SETTING = 'SUPPRESSION_LOCKOUT_HOURS';

/** Every body the bench sends gets the next number, so no hookInstance repeats in a run. */
let sequence = 0;

// ---------------------------------------------------------------------------------------------
// Child roles: bare Express (optionally clustered), the heap probe, the FHIR server thread.

/** Bare Express: parses the body exactly as the service does and answers no cards. */
function bareApp(limitBytes: number): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/cds-services/:id', express.json({ limit: limitBytes, type: ['application/json', 'application/*+json'] }), (_req, res) => {
    res.json({ cards: [] });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}

function runBare(workers: number, port: number): void {
  if (workers > 1 && cluster.isPrimary) {
    for (let i = 0; i < workers; i += 1) cluster.fork();
    process.on('SIGTERM', () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      process.exit(0);
    });
    return;
  }
  const server = bareApp(loadConfig({}).bodyLimitBytes).listen(port, '127.0.0.1');
  server.keepAliveTimeout = 65_000;
  process.on('SIGTERM', () => process.exit(0));
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

// ---------------------------------------------------------------------------------------------
// HTTP helpers.

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
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

async function cardCount(url: string, body: string, agent: Agent): Promise<{ status: number; cards: number; text: string }> {
  const { status, text } = await post(url, body, agent);
  const parsed = z.object({ cards: z.array(z.unknown()) }).safeParse(JSON.parse(text));
  return { status, cards: parsed.success ? parsed.data.cards.length : -1, text };
}

async function expectOneCard(url: string, template: BodyTemplate, agent: Agent, label: string): Promise<void> {
  const { status, cards, text } = await cardCount(url, template.render((sequence += 1)), agent);
  if (status !== 200 || cards !== 1) throw new Error(`check failed for ${label}: ${status} ${text.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// Servers under test, each in its own process tree.

interface Target {
  readonly label: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The process and, once they are up, its cluster workers. */
  pids(): number[];
  stop(): Promise<void>;
}

async function startTarget(label: string, args: readonly string[], env: NodeJS.ProcessEnv, port: number, workers: number): Promise<Target> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const until = performance.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}`);
    if (performance.now() > until) throw new Error(`${label} did not start`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok && (workers <= 1 || processTree(child.pid ?? 0).length > workers)) break;
    await delay(100);
  }
  // Other workers may still be loading their knowledge; give them time to listen too.
  if (workers > 1) await delay(1500);
  const pid = child.pid ?? 0;
  return {
    label,
    url,
    child,
    pids: () => processTree(pid),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

function startService(label: string, options: { workers: number; env?: Record<string, string>; execArgv?: string[]; dataDir: string }): Promise<Target> {
  return freePort().then((port) =>
    startTarget(
      label,
      [...(options.execArgv ?? []), SERVER_JS],
      {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        DATA_DIR: mkdtempSync(join(options.dataDir, 'service-')),
        WORKERS: String(options.workers),
        ...(options.env ?? {}),
      },
      port,
      options.workers,
    ),
  );
}

function startBare(label: string, workers: number): Promise<Target> {
  return freePort().then((port) =>
    startTarget(label, [BENCH_JS, '--role', 'bare', '--workers', String(workers), '--port', String(port)], { PATH: process.env['PATH'] ?? '' }, port, workers),
  );
}

// ---------------------------------------------------------------------------------------------
// Measurements.

interface Row {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** User + system CPU of the server's process tree per completed request. */
  readonly cpuUs: number;
  readonly errors: number;
  readonly bare?: Row;
  /** Service req/s over bare's, round by round. */
  readonly ratios?: readonly number[];
}

async function autocannonRun(url: string, template: BodyTemplate, seconds: number): Promise<{ rps: number; p50: number; p99: number; total: number; errors: number }> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [{ setupRequest: (req: AutocannonRequest): AutocannonRequest => ({ ...req, body: template.render((sequence += 1)) }) }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total, errors: result.errors + result.timeouts + result.non2xx };
}

/** One timed round against a target: autocannon's figures and the CPU its process tree spent per request. */
async function round(target: Target, template: BodyTemplate, seconds: number): Promise<Omit<Row, 'name'>> {
  const pids = target.pids();
  const before = cpuMicros(pids);
  const result = await autocannonRun(`${target.url}${SERVICE_PATH}`, template, seconds);
  const cpu = cpuMicros(pids) - before;
  return { rps: result.rps, p50: result.p50, p99: result.p99, cpuUs: cpu / Math.max(1, result.total), errors: result.errors };
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

interface Schedule {
  /** Seconds of load before the first timed round, per target (TurboFan keeps compiling for several seconds). */
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
}

/**
 * Bare Express and the service under the same load in alternating rounds, so a slow spell of the
 * machine falls on both: each figure is the median over the rounds, and the ratio is the median of
 * the per-round ratios (its range is printed beside it).
 */
async function compare(bareName: string, bare: Target, name: string, service: Target, template: BodyTemplate, schedule: Schedule): Promise<[Row, Row]> {
  for (const target of [bare, service]) await autocannonRun(`${target.url}${SERVICE_PATH}`, template, schedule.warmupSeconds);
  const bareRounds: Array<Omit<Row, 'name'>> = [];
  const serviceRounds: Array<Omit<Row, 'name'>> = [];
  for (let i = 0; i < schedule.rounds; i += 1) {
    bareRounds.push(await round(bare, template, schedule.roundSeconds));
    serviceRounds.push(await round(service, template, schedule.roundSeconds));
  }
  const summary = (rounds: ReadonlyArray<Omit<Row, 'name'>>) => ({
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    cpuUs: median(rounds.map((r) => r.cpuUs)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  });
  const bareRow: Row = { name: bareName, ...summary(bareRounds) };
  const ratios = serviceRounds.map((r, i) => r.rps / (bareRounds[i]?.rps ?? Number.NaN));
  return [bareRow, { name, ...summary(serviceRounds), bare: bareRow, ratios }];
}

interface Scan {
  readonly label: string;
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** One case of a sequential scan: a service or bare Express, and the body it is sent. */
interface ScanCase {
  readonly label: string;
  readonly url: string;
  readonly template: BodyTemplate;
}

/** Number of turns the cases of one sequential scan take. */
const SCAN_ROUNDS = 4;

/**
 * Sequential requests on one keep-alive connection: per-request latency with sub-millisecond
 * resolution. The cases take turns (`SCAN_ROUNDS` rounds, `seconds` per case in all), so a
 * minute when the machine runs slower or faster falls on all of them; each case's samples are
 * pooled over its rounds.
 */
async function scan(cases: readonly ScanCase[], seconds: number, agent: Agent, minSamples = 50): Promise<Scan[]> {
  const samples = cases.map((): number[] => []);
  for (const { url, template } of cases) {
    const warmUntil = performance.now() + 300;
    while (performance.now() < warmUntil) await post(url, template.render((sequence += 1)), agent);
  }
  for (let round = 0; round < SCAN_ROUNDS; round += 1) {
    for (const [index, { label, url, template }] of cases.entries()) {
      const taken = samples[index] ?? [];
      const until = performance.now() + (seconds * 1000) / SCAN_ROUNDS;
      const wanted = Math.ceil((minSamples * (round + 1)) / SCAN_ROUNDS);
      while (performance.now() < until || taken.length < wanted) {
        const body = template.render((sequence += 1));
        const started = performance.now();
        const { status } = await post(url, body, agent);
        taken.push(performance.now() - started);
        if (status !== 200) throw new Error(`${label}: status ${status}`);
      }
    }
  }
  return cases.map(({ label }, index) => summariseLatencies(label, samples[index] ?? []));
}

/** Sequential GETs of one URL (the FHIR server's own answer time, beside the service's no-prefetch case). */
async function searchScan(label: string, url: string, samplesWanted: number): Promise<Scan> {
  const samples: number[] = [];
  for (let i = 0; i < samplesWanted; i += 1) {
    const started = performance.now();
    const response = await fetch(url);
    await response.text();
    samples.push(performance.now() - started);
    if (!response.ok) throw new Error(`${label}: status ${response.status}`);
  }
  return summariseLatencies(label, samples);
}

function summariseLatencies(label: string, unsorted: readonly number[]): Scan {
  const samples = [...unsorted].sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? Number.NaN;
  return { label, n: samples.length, p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

const HeapReport = z.object({ serviceBytes: z.number(), serviceFreshBytes: z.number(), bareBytes: z.number(), parseBytes: z.number(), bodyBytes: z.number() });
type HeapReport = z.infer<typeof HeapReport>;

/** Median heap growth per call over rounds of `batch` calls, each round starting right after a full GC. */
async function allocatedPerCall(gc: () => void, call: () => Promise<unknown> | unknown, batch: number, rounds: number): Promise<number> {
  for (let i = 0; i < batch * 2; i += 1) await call();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < batch; i += 1) await call();
    // Work a response schedules (log line, recorder queue) belongs to the request.
    await new Promise((resolve) => setImmediate(resolve));
    samples.push((getHeapStatistics().used_heap_size - before) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/**
 * In the heap-probe child (run with --expose-gc and a large young generation, so no scavenge
 * falls inside a round): the production service and bare Express in this process, called over
 * loopback, and JSON.parse of the body alone.
 */
async function runHeapProbe(rounds: number): Promise<void> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('the heap probe needs --expose-gc');
  const service = await startServiceInProcess();
  const bareServer = bareApp(loadConfig({}).bodyLimitBytes).listen(0, '127.0.0.1');
  await once(bareServer, 'listening');
  const bareAddress = bareServer.address();
  if (bareAddress === null || typeof bareAddress === 'string') throw new Error('no TCP address');
  const svc = { url: `${service.url}${SERVICE_PATH}` };
  const bare = { url: `http://127.0.0.1:${bareAddress.port}${SERVICE_PATH}` };
  const template = bodyTemplate((patientId, hookInstance) => hookRequest({ patientId, hookInstance, prefetch: prefetchFor(40, patientId) }), false);
  const freshTemplate = bodyTemplate((patientId, hookInstance) => hookRequest({ patientId, hookInstance, prefetch: prefetchFor(40, patientId) }), true);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let n = 0;
  const body = template.render(0);
  const report: HeapReport = {
    serviceBytes: await allocatedPerCall(gc, () => post(svc.url, template.render((n += 1)), agent), 20, rounds),
    serviceFreshBytes: await allocatedPerCall(gc, () => post(svc.url, freshTemplate.render((n += 1)), agent), 20, rounds),
    bareBytes: await allocatedPerCall(gc, () => post(bare.url, template.render((n += 1)), agent), 20, rounds),
    parseBytes: await allocatedPerCall(gc, () => JSON.parse(body), 20, rounds),
    bodyBytes: template.bytes,
  };
  process.send?.(report);
  agent.destroy();
  bareServer.closeAllConnections();
  bareServer.close();
  await service.close();
}

async function heapProbe(quick: boolean): Promise<HeapReport> {
  const child = spawn(process.execPath, ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', BENCH_JS, '--role', 'heap', ...(quick ? ['--quick'] : [])], {
    env: process.env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [message]: unknown[] = await once(child, 'message');
  await once(child, 'exit');
  return HeapReport.parse(message);
}

// ---------------------------------------------------------------------------------------------
// Profile: CPU and sampled allocations of the service under load, start-up and warm-up left out.

/** Builds the production service in this process with info logs to /dev/null; resolves with its URL. */
async function startServiceInProcess(): Promise<{ url: string; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cds-bench-inproc-'));
  const env: Record<string, string> = { NODE_ENV: 'development', LOG_LEVEL: 'info', DATA_DIR: dataDir, PORT: '0' };
  const suppression = process.env[SUPPRESSION_SETTING];
  if (suppression !== undefined) env[SUPPRESSION_SETTING] = suppression;
  const service = await buildService(loadConfig(env), createLogger('info', pino.destination({ dest: '/dev/null', sync: true })));
  const server = service.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  server.keepAliveTimeout = 65_000;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** In the profiled child: serve, profile between "start" and "stop", write both profiles to `dir`. */
async function runProfiledService(dir: string): Promise<void> {
  const service = await startServiceInProcess();
  const session = new Session();
  session.connect();
  process.on('message', (message: unknown) => {
    if (message === 'start') {
      // Collected objects count too: the view is of what each request allocates, not what it keeps.
      const sampling = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
      void session
        .post('Profiler.enable')
        .then(() => session.post('Profiler.start'))
        .then(() => session.post('HeapProfiler.startSampling', sampling))
        .then(() => process.send?.('started'));
    } else if (message === 'stop') {
      void (async () => {
        const { profile: cpu } = await session.post('Profiler.stop');
        const { profile: heap } = await session.post('HeapProfiler.stopSampling');
        writeFileSync(join(dir, 'service.cpuprofile'), JSON.stringify(cpu));
        writeFileSync(join(dir, 'service.heapprofile'), JSON.stringify(heap));
        process.send?.('stopped');
        session.disconnect();
        await service.close();
        process.exit(0);
      })();
    }
  });
  process.send?.(service.url);
}

/** Where a frame's code lives: a project file, a package, or Node itself. */
function placeOf(url: string): string {
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return `npm:${pkg[1]}`;
  const root = `file://${projectRoot()}/`;
  if (url.startsWith(root)) return url.slice(root.length).replace(/^dist\//, '');
  return url === '' ? '(native)' : url.startsWith('node:') ? url : 'other';
}

const CallFrame = z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() });
type CallFrame = z.infer<typeof CallFrame>;
const CpuProfile = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: CallFrame })),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
interface HeapNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: HeapNode[];
}
const HeapNode: z.ZodType<HeapNode> = z.lazy(() => z.object({ callFrame: CallFrame, selfSize: z.number(), children: z.array(HeapNode) }));
const HeapProfile = z.object({ head: HeapNode });

/** Adds `amount` under the frame's function and file. */
function tally(frame: CallFrame, amount: number, byFunction: Map<string, number>, byPlace: Map<string, number>): void {
  const place = placeOf(frame.url);
  const name = `${place}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`} ${frame.functionName || '(anonymous)'}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + amount);
  byPlace.set(place, (byPlace.get(place) ?? 0) + amount);
}

function printTop(title: string, unit: string, map: Map<string, number>, count: number, scale: (value: number) => string): void {
  console.log(`\n${title}`);
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
  printTable(['where', unit], rows.map(([name, value]) => [name, scale(value)]));
}

/** Self time and sampled allocations per function and per file, per request. */
function summariseProfiles(dir: string, requests: number): void {
  const cpu = CpuProfile.parse(JSON.parse(readFileSync(join(dir, 'service.cpuprofile'), 'utf8')));
  const frameOf = new Map(cpu.nodes.map((node) => [node.id, node.callFrame]));
  const timeByFunction = new Map<string, number>();
  const timeByPlace = new Map<string, number>();
  cpu.samples.forEach((nodeId, i) => {
    const frame = frameOf.get(nodeId);
    if (frame && frame.functionName !== '(idle)') tally(frame, cpu.timeDeltas[i] ?? 0, timeByFunction, timeByPlace);
  });
  const perRequest = (value: number) => (value / requests).toFixed(1);
  printTop('CPU self time by file or package, µs per request:', 'µs/req', timeByPlace, 30, perRequest);
  printTop('CPU self time by function, µs per request:', 'µs/req', timeByFunction, 40, perRequest);

  const heap = HeapProfile.parse(JSON.parse(readFileSync(join(dir, 'service.heapprofile'), 'utf8')));
  const bytesByFunction = new Map<string, number>();
  const bytesByPlace = new Map<string, number>();
  const stack: HeapNode[] = [heap.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.selfSize > 0) tally(node.callFrame, node.selfSize, bytesByFunction, bytesByPlace);
    stack.push(...node.children);
  }
  const kbPerRequest = (value: number) => (value / requests / 1024).toFixed(1);
  printTop('Sampled allocations by file or package, KB per request:', 'KB/req', bytesByPlace, 25, kbPerRequest);
  printTop('Sampled allocations by function, KB per request:', 'KB/req', bytesByFunction, 30, kbPerRequest);
}

async function profile(dir: string, seconds: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [BENCH_JS, '--role', 'profile', '--profile', dir], { env: process.env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [url]: unknown[] = await once(child, 'message');
  if (typeof url !== 'string') throw new Error('the profiled service did not report its URL');
  const template = bodyTemplate((patientId, hookInstance) => hookRequest({ patientId, hookInstance, prefetch: prefetchFor(40, patientId) }), false);
  // Long enough for TurboFan to settle: a profile of code still being optimised misleads.
  await autocannonRun(`${url}${SERVICE_PATH}`, template, 10);
  child.send('start');
  await once(child, 'message');
  const pid = child.pid ?? 0;
  const before = cpuMicros([pid]);
  const result = await autocannonRun(`${url}${SERVICE_PATH}`, template, seconds);
  const cpuUs = (cpuMicros([pid]) - before) / Math.max(1, result.total);
  child.send('stop');
  await once(child, 'message');
  await once(child, 'exit');
  console.log(`${result.total} requests in ${seconds} s under the profiler (${result.rps.toFixed(0)} req/s, ${cpuUs.toFixed(0)} µs CPU per request); profiles in ${dir}`);
  summariseProfiles(dir, result.total);
}

// ---------------------------------------------------------------------------------------------
// Output.

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/** The configuration `value` of the suppression setting gives, or undefined when it is refused. */
function configWithSuppression(value: string | undefined): string | undefined {
  try {
    return JSON.stringify(loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', ...(value === undefined ? {} : { [SUPPRESSION_SETTING]: value }) }));
  } catch {
    return undefined;
  }
}

/**
 * The values of the suppression setting to compare, off (`0`) first, when this build reads it:
 * `0` and the "on" value must both be accepted and give different configurations (the "on"
 * value may well be the default, so it is compared with `0`, not with the setting left unset).
 */
function suppressionCases(on: string): Array<{ label: string; value: string | undefined }> {
  const off = configWithSuppression('0');
  const onConfig = configWithSuppression(on);
  if (off === undefined || onConfig === undefined || off === onConfig) return [];
  return [
    { label: 'off', value: '0' },
    { label: 'on', value: on },
  ];
}

/** Runs the role asked for; resolves with whether the process must stay up (a server) or exit. */
async function main(): Promise<'serve' | 'done'> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'string' },
      role: { type: 'string' },
      workers: { type: 'string', default: '1' },
      port: { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (values.role === 'bare') {
    runBare(Number(values.workers), Number(values.port));
    return 'serve';
  }
  if (values.role === 'heap') {
    await runHeapProbe(values.quick ? 5 : 12);
    return 'done';
  }
  if (values.role === 'profile' && values.profile !== undefined) {
    await runProfiledService(values.profile);
    return 'serve';
  }
  if (values.profile !== undefined) {
    await profile(values.profile, values.quick ? 5 : 10);
    return 'done';
  }

  const schedule: Schedule = values.quick ? { warmupSeconds: 4, rounds: 3, roundSeconds: 2 } : { warmupSeconds: 10, rounds: 5, roundSeconds: 3 };
  const scanSeconds = values.quick ? 1 : 2;
  const minSamples = values.quick ? 20 : 50;
  const startedAt = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'cds-bench-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = (count: number, freshPatient: boolean) =>
    bodyTemplate((patientId, hookInstance) => hookRequest({ patientId, hookInstance, prefetch: prefetchFor(count, patientId) }), freshPatient);
  const body40 = body(40, false);
  const body2000 = body(2000, false);
  const suppressionOn = process.env[SUPPRESSION_SETTING] ?? '24';
  const suppression = suppressionCases(suppressionOn);

  console.log(`node ${process.version}, ${cpus().length} CPUs; ${CONNECTIONS} connections; per pair of cases ${schedule.warmupSeconds} s of warm-up each, then ${schedule.rounds} alternating rounds of ${schedule.roundSeconds} s (medians); body ${(body40.bytes / 1024).toFixed(0)} KB (40 Conditions), ${(body2000.bytes / 1024 / 1024).toFixed(1)} MB (2,000)`);
  console.log(`Every call carries a fresh hookInstance; the service logs at info level (to /dev/null), records cards in SQLite and keeps metrics.\n`);

  const rows: Row[] = [];
  const scans: Scan[] = [];

  const bare1 = await startBare('bare', 1);
  const svc1 = await startService('service', { workers: 1, dataDir });
  await expectOneCard(`${svc1.url}${SERVICE_PATH}`, body40, agent, '40 Conditions');
  await expectOneCard(`${svc1.url}${SERVICE_PATH}`, body2000, agent, '2,000 Conditions');
  rows.push(...(await compare('bare Express, 40-Condition body', bare1, 'order-sign, 40 Conditions, the same prefetch each call', svc1, body40, schedule)));

  const serviceUrl = `${svc1.url}${SERVICE_PATH}`;
  const bareUrl = `${bare1.url}${SERVICE_PATH}`;
  const bodyLongText = bodyTemplate((patientId, hookInstance) => hookRequest({ patientId, hookInstance, prefetch: longTextPrefetch(patientId) }), false);
  await expectOneCard(serviceUrl, bodyLongText, agent, 'a 110 KB free-text Condition');
  const scanned = [
    [
      { label: 'order-sign, 40 Conditions', url: serviceUrl, template: body40 },
      { label: 'order-sign, 40 Conditions, fresh patient', url: serviceUrl, template: body(40, true) },
      { label: 'bare, 40-Condition body', url: bareUrl, template: body40 },
    ],
    [
      { label: 'order-sign, 2,000 Conditions', url: serviceUrl, template: body2000 },
      { label: 'order-sign, 2,000 Conditions, fresh patient', url: serviceUrl, template: body(2000, true) },
      { label: 'bare, 2,000-Condition body', url: bareUrl, template: body2000 },
    ],
    [
      { label: 'order-sign, one 110 KB free-text Condition', url: serviceUrl, template: bodyLongText },
      { label: 'bare, the same body', url: bareUrl, template: bodyLongText },
    ],
  ];
  for (const cases of scanned) scans.push(...(await scan(cases, scanSeconds, agent, minSamples)));

  const fhir = await startFhirWorker(FHIR_LATENCY_MS, [patient('bench-patient'), ...conditions(40, 'bench-patient'), ...procedures('bench-patient')]);
  const fallbackBody = bodyTemplate((patientId, hookInstance) => hookRequest({ patientId, hookInstance, fhirServer: fhir.baseUrl }), false);
  await expectOneCard(`${svc1.url}${SERVICE_PATH}`, fallbackBody, agent, 'no prefetch');
  scans.push(...(await scan([{ label: `no prefetch, FHIR server at ${FHIR_LATENCY_MS} ms`, url: serviceUrl, template: fallbackBody }], scanSeconds, agent, minSamples)));
  scans.push(await searchScan(`the FHIR server alone: its Condition search (${FHIR_LATENCY_MS} ms added)`, `${fhir.baseUrl}/Condition?patient=bench-patient`, minSamples));
  await fhir.stop();
  await svc1.stop();

  const uncached = await startService('prefetch cache off', { workers: 1, dataDir, env: { PREFETCH_CACHE_MB: '0' } });
  await expectOneCard(`${uncached.url}${SERVICE_PATH}`, body40, agent, 'prefetch cache off');
  const [, uncachedRow] = await compare('bare Express, 40-Condition body', bare1, 'order-sign, 40 Conditions, the same prefetch, prefetch cache off (PREFETCH_CACHE_MB=0)', uncached, body40, schedule);
  rows.push(uncachedRow);
  await uncached.stop();

  const fresh = body(40, true);
  for (const { label, value } of suppression) {
    const svc = await startService(`suppression ${label}`, { workers: 1, dataDir, env: value === undefined ? {} : { [SUPPRESSION_SETTING]: value } });
    await expectOneCard(`${svc.url}${SERVICE_PATH}`, fresh, agent, `suppression ${label}`);
    const [, row] = await compare('bare Express, 40-Condition body', bare1, `order-sign, 40 Conditions, fresh patient, suppression ${label} (${SUPPRESSION_SETTING}=${value ?? 'unset'})`, svc, fresh, schedule);
    rows.push(row);
    await svc.stop();
  }
  await bare1.stop();

  const bare2 = await startBare('bare, 2 workers', 2);
  const svc2 = await startService('service, 2 workers', { workers: 2, dataDir });
  await expectOneCard(`${svc2.url}${SERVICE_PATH}`, body40, agent, 'WORKERS=2');
  rows.push(...(await compare('bare Express, 2 workers', bare2, 'order-sign, 40 Conditions, WORKERS=2', svc2, body40, schedule)));
  await Promise.all([bare2.stop(), svc2.stop()]);
  agent.destroy();
  const heap = await heapProbe(values.quick);
  rmSync(dataDir, { recursive: true, force: true });

  printTable(
    ['case', 'req/s', 'p50 ms', 'p99 ms', 'x bare', 'x bare, rounds', 'CPU µs/req', 'bare CPU µs/req', 'errors'],
    rows.map((r) => [
      r.name,
      r.rps.toFixed(0),
      String(r.p50),
      String(r.p99),
      r.ratios ? median(r.ratios).toFixed(2) : '1.00',
      r.ratios ? `${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}` : '',
      r.cpuUs.toFixed(0),
      (r.bare ?? r).cpuUs.toFixed(0),
      String(r.errors),
    ]),
  );
  console.log('CPU µs/req: user + system time of the server\'s process tree (workers included) over the requests it served.');
  if (suppression.length === 0) console.log(`(${SUPPRESSION_SETTING} is not a setting of this build: no suppression cases.)`);

  console.log('\nSequential requests (one keep-alive connection), latency in ms:');
  printTable(
    ['case', 'n', 'p50', 'p99', 'mean'],
    scans.map((s) => [s.label, String(s.n), ms(s.p50), ms(s.p99), ms(s.mean)]),
  );

  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  console.log('\nHeap allocated per call (steady loop, in one process, over loopback; 40-Condition body):');
  printTable(
    ['what', 'per call', 'x JSON.parse'],
    [
      ['order-sign service, the same prefetch each call (HTTP client + server included)', kb(heap.serviceBytes), (heap.serviceBytes / heap.parseBytes).toFixed(2)],
      ['order-sign service, a fresh patient each call', kb(heap.serviceFreshBytes), (heap.serviceFreshBytes / heap.parseBytes).toFixed(2)],
      ['bare Express (HTTP client + server, express.json)', kb(heap.bareBytes), (heap.bareBytes / heap.parseBytes).toFixed(2)],
      ['the service beyond bare Express, the same prefetch', kb(heap.serviceBytes - heap.bareBytes), ((heap.serviceBytes - heap.bareBytes) / heap.parseBytes).toFixed(2)],
      ['the service beyond bare Express, a fresh patient', kb(heap.serviceFreshBytes - heap.bareBytes), ((heap.serviceFreshBytes - heap.bareBytes) / heap.parseBytes).toFixed(2)],
      [`JSON.parse of the ${kb(heap.bodyBytes)} body alone`, kb(heap.parseBytes), '1.00'],
    ],
  );
  console.log(`\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs; total ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  return 'done';
}

const fail = (error: unknown): void => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
};

if (isMainThread) {
  main().then((outcome) => {
    if (outcome === 'done') process.exit(0);
  }, fail);
} else if (isFhirWorkerData(workerData)) {
  runFhirWorker(workerData).catch(fail);
}
