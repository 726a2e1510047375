import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { projectRoot } from '../../src/paths.js';
import { exitOf } from '../helpers/service-process.js';

const root = projectRoot();
const serverJs = join(root, 'dist', 'src', 'server.js');
let running: ChildProcessWithoutNullStreams | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'cds-server-process-'));

function start(env: Record<string, string>): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [serverJs], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', DATA_DIR: dataDir, ...env },
  });
  running = child;
  return child;
}

/** Resolves with the port from the "listening" log line. */
function listeningPort(child: ChildProcessWithoutNullStreams): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buffered}`)), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        const match = /"msg":"listening"/.test(line) ? /"port":(\d+)/.exec(line) : null;
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${String(code)}: ${buffered}`)));
  });
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

afterEach(() => {
  if (running && running.exitCode === null) running.kill('SIGKILL');
  running = undefined;
});

describe('the service as a process (npm start)', () => {
  it('starts with built-in defaults, answers the README example and stops cleanly on SIGTERM', async () => {
    const child = start({ LOG_LEVEL: 'info' });
    const exited = exitOf(child);
    const port = await listeningPort(child);
    const discovery = await fetch(`http://127.0.0.1:${port}/cds-services`);
    expect(discovery.status).toBe(200);
    const example = readFileSync(join(root, 'fixtures', 'examples', 'order-sign-neck-massage-cervical-stenosis.json'), 'utf8');
    const response = await fetch(`http://127.0.0.1:${port}/cds-services/spine-safety-order-sign`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: example,
    });
    expect(response.status).toBe(200);
    const body: unknown = await response.json();
    expect(body).toMatchObject({ cards: [{ indicator: 'warning', source: { topic: { code: 'cervical-stenosis-massage' } } }] });
    child.kill('SIGTERM');
    const { code } = await exited;
    expect(code).toBe(0);
  });

  it('refuses to start in production without a trust file, saying why', async () => {
    const { code, stderr } = await exitOf(start({ NODE_ENV: 'production' }));
    expect(code).toBe(78);
    expect(stderr).toContain('CDS_TRUST_FILE');
  });

  it('refuses to listen beyond loopback in development mode', async () => {
    const { code, stderr } = await exitOf(start({ HOST: '0.0.0.0' }));
    expect(code).toBe(78);
    expect(stderr).toContain('loopback');
  });

  it('stops with a message naming the file when a trust file is broken', async () => {
    const { code, stderr } = await exitOf(start({ CDS_TRUST_FILE: join(root, 'fixtures', 'examples', 'order-sign-neck-massage-cervical-stenosis.json') }));
    expect(code).toBe(78);
    expect(stderr).toContain('order-sign-neck-massage-cervical-stenosis.json');
  });

  it.each([
    ['CORS_ORIGINS', 'https://ehr.example.org/app'],
    ['CORS_ORIGINS', 'not an origin'],
    ['LOG_FORMAT', 'fancy'],
    ['PORT', 'eighty'],
    ['DATABASE_URL', 'mysql://user:secret@db/cds'],
  ])('exits with 78 and one line naming %s when it is %j, before listening', async (name, value) => {
    const child = start({ [name]: value });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(78);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.startsWith(`${name}: `)).toBe(true);
    expect(stderr).not.toContain('secret');
    expect(stdout).not.toContain('listening');
  });

  it('writes human-readable log lines with LOG_FORMAT=pretty', async () => {
    const child = start({ LOG_FORMAT: 'pretty' });
    const firstLines = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`no listening line: ${buffered}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        if (/listening/.test(buffered)) {
          clearTimeout(timer);
          resolve(buffered);
        }
      });
    });
    expect(firstLines).toMatch(/INFO.*listening/);
    expect(firstLines.split('\n').some((line) => line.trimStart().startsWith('{'))).toBe(false);
  });
});
