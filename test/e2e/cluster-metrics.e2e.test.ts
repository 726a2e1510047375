import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { projectRoot } from '../../src/paths.js';

const root = projectRoot();
const dataDir = mkdtempSync(join(tmpdir(), 'cds-cluster-metrics-'));
const WORKERS = 2;
const CALLS = 6;
let server: ChildProcessWithoutNullStreams | undefined;

afterAll(() => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resolves with the port once every worker has logged that it listens. */
function allListening(child: ChildProcessWithoutNullStreams, workers: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`workers did not start: ${buffered}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const ports = buffered
        .split('\n')
        .filter((line) => line.includes('"msg":"listening"'))
        .map((line) => /"port":(\d+)/.exec(line)?.[1]);
      if (ports.length >= workers && ports[0]) {
        clearTimeout(timer);
        resolve(Number(ports[0]));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${String(code)}: ${buffered}`)));
  });
}

/** One call on a connection of its own, so the primary hands calls to the workers in turn. */
function call(port: number, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the service with several workers', () => {
  it('counts in /metrics the calls every worker served, whichever worker answers the scrape', async () => {
    server = spawn(process.execPath, [join(root, 'dist', 'src', 'server.js')], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', WORKERS: String(WORKERS) },
    });
    const port = await allListening(server, WORKERS);
    const example: unknown = JSON.parse(readFileSync(join(root, 'fixtures', 'examples', 'order-sign-neck-massage-cervical-stenosis.json'), 'utf8'));
    for (let i = 0; i < CALLS; i += 1) {
      // A new call each time (a fresh hookInstance): the same call again would be a retry, counted once.
      const body = JSON.stringify({ ...(typeof example === 'object' ? example : {}), hookInstance: randomUUID() });
      const answer = await call(port, 'POST', '/cds-services/spine-safety-order-sign', body);
      expect(answer.status).toBe(200);
    }
    // Fresh connections go to the workers in turn: without aggregation each scrape would count only its worker's calls.
    for (let i = 0; i < WORKERS * 2; i += 1) {
      const scrape = await call(port, 'GET', '/metrics');
      expect(scrape.status).toBe(200);
      expect(scrape.text).toMatch(new RegExp(`^cds_request_duration_seconds_count\\{service="spine-safety-order-sign",status="200"\\} ${CALLS}$`, 'm'));
      expect(scrape.text).toMatch(new RegExp(`^cds_cards_total\\{card_id="cervical-stenosis-massage",indicator="warning"\\} ${CALLS}$`, 'm'));
    }
    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    expect(code).toBe(0);
  }, 40_000);
});
