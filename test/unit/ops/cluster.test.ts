import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { runClustered, type ClusterOptions } from '../../../src/cluster.js';
import { createLogger } from '../../../src/logger.js';

const logger = createLogger('silent');

/** A stand-in for node:cluster: fork() returns workers the test can kill. */
function fakeCluster() {
  const emitter = new EventEmitter();
  const workers: Array<{ worker: Worker; signals: string[] }> = [];
  let nextPid = 100;
  const cluster = {
    isPrimary: true,
    fork: () => {
      const signals: string[] = [];
      const worker = { process: { pid: (nextPid += 1), kill: (signal: string) => signals.push(signal) } } as unknown as Worker;
      workers.push({ worker, signals });
      return worker;
    },
    on: (event: string, listener: (...args: unknown[]) => void) => {
      emitter.on(event, listener);
      return cluster;
    },
  } as unknown as NonNullable<ClusterOptions['cluster']>;
  const die = (index: number, code: number | null = 1) => emitter.emit('exit', workers[index]?.worker, code, null);
  return { cluster, workers, die };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('runClustered', () => {
  it('just starts the server in this process when one worker is configured', async () => {
    const { cluster, workers } = fakeCluster();
    const start = jest.fn(async () => undefined);
    await runClustered({ workers: 1 }, start, logger, { cluster, signals: new EventEmitter() });
    expect(start).toHaveBeenCalledTimes(1);
    expect(workers).toHaveLength(0);
  });

  it('forks one worker per configured worker and does not start a server in the primary', async () => {
    const { cluster, workers } = fakeCluster();
    const start = jest.fn(async () => undefined);
    await runClustered({ workers: 3 }, start, logger, { cluster, signals: new EventEmitter() });
    expect(workers).toHaveLength(3);
    expect(start).not.toHaveBeenCalled();
  });

  it('restarts a worker that dies, waiting longer after each quick death', async () => {
    const { cluster, workers, die } = fakeCluster();
    await runClustered({ workers: 2 }, async () => undefined, logger, { cluster, signals: new EventEmitter() });
    die(0);
    jest.advanceTimersByTime(999);
    expect(workers).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(workers).toHaveLength(3);
    die(2);
    jest.advanceTimersByTime(1999);
    expect(workers).toHaveLength(3);
    jest.advanceTimersByTime(1);
    expect(workers).toHaveLength(4);
  });

  it('passes SIGTERM to every worker and exits once they have all stopped', async () => {
    const { cluster, workers, die } = fakeCluster();
    const signals = new EventEmitter();
    const exit = jest.fn();
    await runClustered({ workers: 2 }, async () => undefined, logger, { cluster, signals, exit });
    signals.emit('SIGTERM');
    expect(workers.map((w) => w.signals)).toEqual([['SIGTERM'], ['SIGTERM']]);
    die(0, 0);
    expect(exit).not.toHaveBeenCalled();
    die(1, 0);
    expect(exit).toHaveBeenCalledWith(0);
    jest.advanceTimersByTime(60_000);
    expect(workers).toHaveLength(2);
  });

  it('stops instead of restarting when a worker refuses to start (exit 78)', async () => {
    const { cluster, workers, die } = fakeCluster();
    const exit = jest.fn();
    await runClustered({ workers: 2 }, async () => undefined, logger, { cluster, signals: new EventEmitter(), exit });
    die(0, 78);
    jest.advanceTimersByTime(60_000);
    expect(workers).toHaveLength(2);
    expect(workers[1]?.signals).toEqual(['SIGTERM']);
    die(1, 0);
    expect(exit).toHaveBeenCalledWith(78);
  });
});
