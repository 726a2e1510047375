import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildService, loadStartupFiles, type StartupFiles } from './bootstrap.js';
import { runClustered } from './cluster.js';
import { KnowledgeError } from './knowledge/load-knowledge.js';
import { createServiceLogger, errorKind, type Logger } from './logger.js';
import { TrustFileError } from './security/trust-file.js';

/**
 * Starts the service: configuration, knowledge and trust file checked first, in the primary
 * process before any worker is forked, then listen; SIGTERM drains and stops.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(78);
  }
  const logger: Logger = createServiceLogger(config);
  // Workers read the files again for themselves; a broken one must stop the primary, not each worker.
  const files = cluster.isPrimary ? checkedStartupFiles(config, logger) : undefined;
  await runClustered(config, () => startWorker(config, logger, files), logger);
}

/** Reads the start-up files; a broken one stops the process with status 78 and one line naming it. */
function checkedStartupFiles(config: Config, logger: Logger): StartupFiles {
  try {
    return loadStartupFiles(config);
  } catch (error) {
    if (error instanceof KnowledgeError || error instanceof TrustFileError) {
      logger.fatal({ reason: error.message }, 'refusing to start');
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

/** One worker: builds the service from the checked files (reads them when not given), listens, and drains on SIGTERM. */
async function startWorker(config: Config, logger: Logger, checked: StartupFiles | undefined): Promise<void> {
  const files = checked ?? checkedStartupFiles(config, logger);
  const service = await buildService(config, logger, files);
  const server: Server = service.app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ host: config.host, port, publicBaseUrl: config.publicBaseUrl, mode: config.trustFile ? 'authenticated' : 'development' }, 'listening');
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(() => {
      service
        .close()
        .catch((error: unknown) => logger.error({ err: errorKind(error) }, 'close failed'))
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: errorKind(reason) }, 'unhandled rejection');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.name : 'unknown error'}\n`);
  process.exit(1);
});
