import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { answerGroupMetrics } from './ops/cluster-metrics.js';

/** Restart delays: doubled after each quick death, back to the first once a worker stayed up. */
const FIRST_RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that lived this long is considered healthy: its death does not grow the delay. */
const STABLE_AFTER_MS = 60_000;
/** Workers get this long to drain after SIGTERM (server.ts forces its own exit after 10 s). */
const STOP_GRACE_MS = 15_000;

export interface ClusterOptions {
  /** Injected for tests; defaults to `node:cluster`. */
  readonly cluster?: Pick<typeof cluster, 'isPrimary' | 'fork' | 'on'>;
  readonly exit?: (code: number) => void;
  /** Where SIGTERM and SIGINT arrive; defaults to `process`. */
  readonly signals?: Pick<NodeJS.EventEmitter, 'on'>;
}

/**
 * Runs the service on every core when `config.workers > 1`: the primary process forks that
 * many workers, each calling `startWorker` (they share the listening port; the primary hands
 * connections out round-robin), restarts a worker that dies with exponential backoff, and on
 * SIGTERM or SIGINT passes SIGTERM to every worker, waits for them to drain and exits.
 * With `workers` at 1, or inside a worker, it just calls `startWorker`.
 *
 * Each worker holds its own knowledge, circuit breakers and metrics registry; the primary
 * collects every worker's registry when one is scraped, so `/metrics` shows the whole group.
 * @see https://nodejs.org/docs/latest-v20.x/api/cluster.html
 */
export async function runClustered(config: Pick<Config, 'workers'>, startWorker: () => Promise<void>, logger: Logger, options: ClusterOptions = {}): Promise<void> {
  const nodeCluster = options.cluster ?? cluster;
  const exit = options.exit ?? ((code: number): void => process.exit(code));
  if (config.workers <= 1 || !nodeCluster.isPrimary) {
    await startWorker();
    return;
  }

  answerGroupMetrics(nodeCluster);
  let stopping = false;
  /** 78 once a worker refused its configuration, so a supervisor sees the same status as with one worker. */
  let exitCode = 0;
  const startedAt = new Map<Worker, number>();
  let restartDelayMs = FIRST_RESTART_DELAY_MS;

  const fork = (): void => {
    const worker = nodeCluster.fork();
    startedAt.set(worker, Date.now());
  };

  nodeCluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (stopping) {
      if (startedAt.size === 0) {
        logger.info('all workers stopped');
        exit(exitCode);
      }
      return;
    }
    // 78 is the configuration-error exit (bad knowledge or trust file): restarting cannot help.
    if (code === 78) {
      logger.fatal({ pid: worker.process.pid, code }, 'worker refused to start; stopping');
      exitCode = 78;
      stopAll('worker-config-error');
      return;
    }
    if (lived >= STABLE_AFTER_MS) restartDelayMs = FIRST_RESTART_DELAY_MS;
    const delayMs = restartDelayMs;
    restartDelayMs = Math.min(restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    logger.error({ pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delayMs }, 'worker died; restarting');
    setTimeout(() => {
      if (!stopping) fork();
    }, delayMs).unref();
  });

  const stopAll = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason, workers: startedAt.size }, 'stopping workers');
    if (startedAt.size === 0) exit(exitCode);
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      logger.error({ workers: startedAt.size }, 'workers did not stop in time');
      exit(1);
    }, STOP_GRACE_MS).unref();
  };
  const signals = options.signals ?? process;
  signals.on('SIGTERM', () => stopAll('SIGTERM'));
  signals.on('SIGINT', () => stopAll('SIGINT'));

  logger.info({ workers: config.workers }, 'starting workers');
  for (let i = 0; i < config.workers; i += 1) fork();
}
