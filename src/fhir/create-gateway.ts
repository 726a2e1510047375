import type { Config } from '../config.js';
import type { BreakerMetrics, Metrics } from '../ops/types.js';
import { createBreakerGateway, type BreakerGateway } from './breaker-gateway.js';
import { createFhirKitGateway } from './gateway.js';

/** The production FHIR gateway from the configuration: fhir-kit-client behind one circuit breaker per server. */
export function createGatewayFromConfig(config: Pick<Config, 'fhir'>, metrics?: Metrics & Partial<BreakerMetrics>): BreakerGateway {
  return createBreakerGateway(
    createFhirKitGateway({
      callTimeoutMs: config.fhir.callTimeoutMs,
      maxPages: config.fhir.maxPages,
      pageSize: config.fhir.pageSize,
      maxConcurrentCalls: config.fhir.maxConcurrentCalls,
    }),
    { failureThreshold: config.fhir.breakerFailureThreshold, resetMs: config.fhir.breakerResetMs, ...(metrics ? { metrics } : {}) },
  );
}
