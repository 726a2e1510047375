/**
 * Start-up checks run once, before anything is opened and before any worker is forked: a broken
 * knowledge file or trust file stops the process with status 78 and one line naming the file,
 * with one worker or several (issue 11, "one configuration gate").
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { projectRoot } from '../../src/paths.js';
import { eventually } from '../helpers/eventually.js';
import { exitOf } from '../helpers/service-process.js';

const root = projectRoot();
const work = mkdtempSync(join(tmpdir(), 'cds-startup-checks-'));
/** Preloaded in the primary and, through execArgv, in every worker: a worker appends its pid to WORKER_MARKS. */
const marker = join(work, 'mark-worker.mjs');
writeFileSync(
  marker,
  "import cluster from 'node:cluster';\nimport { appendFileSync } from 'node:fs';\nif (cluster.isWorker) appendFileSync(process.env.WORKER_MARKS, `${process.pid}\\n`);\n",
);
const BROKEN_VALUE_SET = join('knowledge', 'valuesets', 'body-site-cervical.json');
let running: ChildProcessWithoutNullStreams | undefined;
let runs = 0;

/** A copy of the built service with its own knowledge, cards, hooks and web folders, to break without touching the real ones. */
function serviceCopy(): string {
  const dir = join(work, 'copy');
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  for (const folder of ['dist', 'knowledge', 'cards', 'hooks', 'web']) cpSync(join(root, folder), join(dir, folder), { recursive: true });
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'));
  return dir;
}

/** Starts `<home>/dist/src/server.js`; `workerMarks` is the file the workers it forks write to. */
function start(home: string, env: Record<string, string>): { child: ChildProcessWithoutNullStreams; workerMarks: string } {
  runs += 1;
  const workerMarks = join(work, `workers-${runs}.txt`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(marker).href, join(home, 'dist', 'src', 'server.js')], {
    cwd: home,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', DATA_DIR: join(work, `data-${runs}`), LOG_LEVEL: 'info', WORKER_MARKS: workerMarks, ...env },
  });
  running = child;
  return { child, workerMarks };
}

function workersStarted(workerMarks: string): number {
  return existsSync(workerMarks) ? readFileSync(workerMarks, 'utf8').trim().split('\n').length : 0;
}

afterEach(() => {
  if (running && running.exitCode === null) running.kill('SIGKILL');
  running = undefined;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('start-up checks before the workers fork', () => {
  it('forks the workers WORKERS asks for when every file is sound (the worker count this suite relies on)', async () => {
    const { child, workerMarks } = start(root, { WORKERS: '2' });
    const exited = exitOf(child);
    await eventually(() => workersStarted(workerMarks) === 2);
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });

  it.each(['1', '2'])('exits 78 with one line naming the file and field of a broken knowledge file, forking no worker (WORKERS=%s)', async (workers) => {
    const home = serviceCopy();
    const file = join(home, BROKEN_VALUE_SET);
    const valueSet = z.record(z.string(), z.unknown()).parse(JSON.parse(readFileSync(join(root, BROKEN_VALUE_SET), 'utf8')));
    writeFileSync(file, JSON.stringify({ ...valueSet, compose: 'not a compose' }));
    const { child, workerMarks } = start(home, { WORKERS: workers });
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(78);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.startsWith(`${BROKEN_VALUE_SET}: compose`)).toBe(true);
    expect(workersStarted(workerMarks)).toBe(0);
  });

  it.each(['1', '2'])('exits 78 with one line naming a missing trust file, forking no worker (WORKERS=%s)', async (workers) => {
    const missing = join(work, 'no-such-trust-file.json');
    const { child, workerMarks } = start(root, { WORKERS: workers, CDS_TRUST_FILE: missing });
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(78);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toContain(missing);
    expect(workersStarted(workerMarks)).toBe(0);
  });
});
