import type { Express } from 'express';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { loadKnowledge } from './knowledge/load-knowledge.js';
import type { Logger } from './logger.js';
import { createFhirServerPolicy } from './security/fhir-server-policy.js';
import { createJwtAuthenticator } from './security/jwt-authenticator.js';
import { loadTrustFile } from './security/trust-file.js';

export interface Service {
  readonly app: Express;
  close(): Promise<void>;
}

/**
 * Composes the running service from the configuration: knowledge (checked, or start-up stops),
 * caller trust, the analytics store and metrics.
 */
export async function buildService(config: Config, logger: Logger): Promise<Service> {
  const knowledge = loadKnowledge();
  const trust = config.trustFile ? loadTrustFile(config.trustFile, config) : undefined;
  if (!trust) {
    logger.warn(
      { host: config.host },
      'development mode: no CDS_TRUST_FILE, so callers are not authenticated (tokens are accepted unverified); loopback only',
    );
  }
  const app = createApp({
    config,
    knowledge,
    logger,
    ...(trust ? { authenticator: createJwtAuthenticator(trust, config, logger) } : {}),
    fhirServerPolicy: createFhirServerPolicy(trust, config),
  });
  logger.info({ knowledgeVersion: knowledge.version, services: knowledge.hooks.map((h) => h.id) }, 'knowledge loaded');
  return { app, close: async () => undefined };
}
