import cluster from 'node:cluster';
import type { Express } from 'express';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createGatewayFromConfig } from './fhir/create-gateway.js';
import { describeCards } from './store/describe-report.js';
import { createAnalyticsRouter } from './http/analytics-routes.js';
import { createFeedbackRouter } from './http/feedback-routes.js';
import { createOpsRouter } from './http/ops-routes.js';
import { loadKnowledge, type Knowledge } from './knowledge/load-knowledge.js';
import type { Logger } from './logger.js';
import { groupMetricsSource } from './ops/cluster-metrics.js';
import { createMetrics } from './ops/metrics.js';
import { createFhirServerPolicy } from './security/fhir-server-policy.js';
import { createJwtAuthenticator } from './security/jwt-authenticator.js';
import { loadTrustFile, type TrustConfig } from './security/trust-file.js';
import { createStore } from './store/create-store.js';
import { createCardRecorder } from './store/recorder.js';
import { createResilientStore } from './store/resilient-store.js';
import { loadTryAssets, type TryAssets } from './web/try-assets.js';

export interface Service {
  readonly app: Express;
  close(): Promise<void>;
}

/** The files start-up reads and checks before anything is opened. */
export interface StartupFiles {
  readonly knowledge: Knowledge;
  /** Absent in development mode (no `CDS_TRUST_FILE`). */
  readonly trust: TrustConfig | undefined;
  /** The /try page, served in development mode only. */
  readonly tryAssets: TryAssets | undefined;
}

/**
 * Reads the knowledge, the trust file and (in development mode) the /try assets. A broken file
 * throws a `KnowledgeError` or `TrustFileError` whose message names the file and the field.
 */
export function loadStartupFiles(config: Config): StartupFiles {
  const knowledge = loadKnowledge();
  const trust = config.trustFile ? loadTrustFile(config.trustFile, config) : undefined;
  return { knowledge, trust, tryAssets: trust ? undefined : loadTryAssets(knowledge) };
}

/**
 * Composes the running service from the configuration and its checked files (read here when not
 * given): caller trust, the FHIR gateway behind per-server circuit breakers, metrics, and the
 * analytics store with its recorder (opened in the background, so a database outage never stops cards).
 */
export async function buildService(config: Config, logger: Logger, files: StartupFiles = loadStartupFiles(config)): Promise<Service> {
  const { knowledge, trust, tryAssets } = files;
  if (!trust) {
    logger.warn(
      { host: config.host },
      'development mode: no CDS_TRUST_FILE, so callers are not authenticated (tokens are accepted unverified); loopback only',
    );
  }
  const metrics = createMetrics();
  const gateway = createGatewayFromConfig(config, metrics);
  const store = createResilientStore(() => createStore(config, logger), logger);
  const recorder = createCardRecorder(store, logger, metrics);
  const readiness = async () => {
    const storeOk = await store.ping().then(
      () => true,
      () => false,
    );
    return { ready: storeOk, checks: { knowledge: 'ok' as const, store: storeOk ? ('ok' as const) : ('fail' as const) } };
  };
  const app = createApp({
    config,
    knowledge,
    logger,
    gateway,
    metrics,
    recorder,
    history: store,
    // With PostgreSQL every instance shares one jti record; with SQLite (one host) it stays in-process.
    ...(trust ? { authenticator: createJwtAuthenticator(trust, config, logger, config.databaseUrl !== undefined ? { sharedReplay: store } : {}) } : {}),
    fhirServerPolicy: createFhirServerPolicy(trust, config),
    ...(tryAssets ? { tryAssets } : {}),
    publicRouters: [createOpsRouter({ registry: config.workers > 1 && cluster.isWorker ? groupMetricsSource(metrics.registry) : metrics.registry, readiness })],
    protectedRouters: [
      createFeedbackRouter({
        store,
        logger,
        metrics,
        bodyLimitBytes: config.bodyLimitBytes,
        knownServiceIds: new Set(knowledge.hooks.map((hook) => hook.id)),
      }),
      createAnalyticsRouter({ store, logger, cards: describeCards(knowledge) }),
    ],
  });
  logger.info({ knowledgeVersion: knowledge.version, services: knowledge.hooks.map((h) => h.id) }, 'knowledge loaded');
  return {
    app,
    close: async () => {
      await recorder.close();
      await store.close();
      gateway.close();
    },
  };
}
