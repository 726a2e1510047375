import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { BreakerMetrics, BreakerState, Metrics } from '../ops/types.js';
import { FhirCallError, type FhirGateway, type FhirSearch, type FhirSearchResult } from './gateway.js';

export interface BreakerGatewayOptions {
  /** Consecutive server failures that open a server's breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker rejects before letting one trial call through (half-open). */
  readonly resetMs: number;
  /** Call durations and outcomes; breaker state per origin when the metrics also implement it. */
  readonly metrics?: Metrics & Partial<BreakerMetrics>;
  /** Millisecond clock for call durations. Default `performance.now`. */
  readonly now?: () => number;
  /** Servers with a breaker of their own; beyond it the least recently used one is dropped. Default 100. */
  readonly maxServers?: number;
}

/** A gateway with one circuit breaker per FHIR server. */
export interface BreakerGateway extends FhirGateway {
  /** The breaker state for a FHIR base URL ('closed' when the server has no breaker yet). */
  stateOf(baseUrl: string): BreakerState;
  /** Shuts every breaker down and stops the shared timer. */
  close(): void;
}

interface ServerBreaker {
  readonly origin: string;
  readonly breaker: CircuitBreaker<[FhirSearch], FhirSearchResult>;
  /** Server failures since the last answer from the server. */
  consecutiveFailures: number;
}

const STATE_RANK: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
/** Opossum's rolling statistics: ten one-second buckets, rotated by one shared timer. */
const ROLLING_WINDOW_MS = 10_000;
const ROLLING_BUCKETS = 10;

/** `origin + path` of a FHIR base URL: the unit a breaker protects. */
function serverKey(baseUrl: string): { key: string; origin: string } {
  try {
    const url = new URL(baseUrl);
    return { key: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, origin: url.origin };
  } catch {
    return { key: baseUrl, origin: 'invalid' };
  }
}

function resourceTypeOf(query: string): string {
  const type = query.split('?', 1)[0] ?? '';
  return RESOURCE_TYPE.test(type) ? type : 'other';
}

/**
 * Whether a failure says the server is unwell: timeouts, network errors, 5xx and 429. A 4xx
 * (401, 403, 404...) or a body that is not a Bundle is an answer about this request, so it
 * proves the server is up and resets the count.
 */
export function isServerFailure(error: unknown): boolean {
  if (!(error instanceof FhirCallError)) return true;
  switch (error.kind) {
    case 'timeout':
    case 'network':
      return true;
    case 'http':
      return error.status === undefined || error.status >= 500 || error.status === 429;
    case 'invalid':
    case 'rejected':
      return false;
  }
}

function isOpenRejection(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'EOPENBREAKER' || error.code === 'ESHUTDOWN');
}

function stateOfBreaker(breaker: CircuitBreaker<[FhirSearch], FhirSearchResult>): BreakerState {
  if (breaker.opened) return 'open';
  if (breaker.halfOpen) return 'half-open';
  return 'closed';
}

/**
 * Wraps a gateway with one opossum circuit breaker per FHIR server (origin plus base path).
 * A breaker opens after `failureThreshold` consecutive server failures ({@link isServerFailure});
 * while open, searches fail at once with `FhirCallError('rejected')`, so the service answers 412
 * fast instead of queueing behind a dead server. After `resetMs` one trial call goes through
 * (half-open): success closes the breaker, failure opens it again. A failure that follows the
 * caller's own abort (its deadline passed, or a sibling read already failed) is not held against
 * the server. Opossum's own timeout is off: the inner gateway times each call and honours the
 * deadline signal. Every call is timed into `observeFhirCall`.
 */
export function createBreakerGateway(inner: FhirGateway, options: BreakerGatewayOptions): BreakerGateway {
  const now = options.now ?? (() => performance.now());
  const maxServers = options.maxServers ?? 100;
  const metrics = options.metrics;
  const servers = new Map<string, ServerBreaker>();
  const rotator = new EventEmitter();
  rotator.setMaxListeners(maxServers + 1);
  let rotation: NodeJS.Timeout | undefined;

  const publishOrigin = (origin: string): void => {
    if (!metrics?.setBreakerState) return;
    let worst: BreakerState | undefined;
    for (const server of servers.values()) {
      if (server.origin !== origin) continue;
      const state = stateOfBreaker(server.breaker);
      if (worst === undefined || STATE_RANK[state] > STATE_RANK[worst]) worst = state;
    }
    if (worst === undefined) metrics.forgetBreaker?.({ origin });
    else metrics.setBreakerState({ origin }, worst);
  };

  const breakerFor = (baseUrl: string): ServerBreaker => {
    const { key, origin } = serverKey(baseUrl);
    const existing = servers.get(key);
    if (existing) {
      servers.delete(key);
      servers.set(key, existing);
      return existing;
    }
    rotation ??= setInterval(() => rotator.emit('rotate'), ROLLING_WINDOW_MS / ROLLING_BUCKETS).unref();
    const breaker = new CircuitBreaker<[FhirSearch], FhirSearchResult>((request) => inner.search(request), {
      timeout: false,
      resetTimeout: options.resetMs,
      // Opening is decided on consecutive failures below; opossum's percentage rule never fires at 100.
      errorThresholdPercentage: 100,
      errorFilter: (error: unknown) => !isServerFailure(error),
      rollingCountTimeout: ROLLING_WINDOW_MS,
      rollingCountBuckets: ROLLING_BUCKETS,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: rotator,
    });
    const server: ServerBreaker = { origin, breaker, consecutiveFailures: 0 };
    const reset = () => {
      server.consecutiveFailures = 0;
      publishOrigin(origin);
    };
    breaker.on('open', reset);
    breaker.on('halfOpen', reset);
    breaker.on('close', reset);
    servers.set(key, server);
    if (servers.size > maxServers) {
      const [oldestKey, oldest] = servers.entries().next().value ?? [];
      if (oldestKey !== undefined && oldest) {
        servers.delete(oldestKey);
        oldest.breaker.shutdown();
        publishOrigin(oldest.origin);
      }
    }
    publishOrigin(origin);
    return server;
  };

  return {
    async search(request: FhirSearch): Promise<FhirSearchResult> {
      const server = breakerFor(request.baseUrl);
      const resourceType = resourceTypeOf(request.query);
      const started = now();
      const seconds = () => Math.max(0, now() - started) / 1000;
      try {
        const result = await server.breaker.fire(request);
        server.consecutiveFailures = 0;
        metrics?.observeFhirCall({ resourceType, outcome: 'ok' }, seconds());
        return result;
      } catch (error) {
        if (isOpenRejection(error)) {
          metrics?.observeFhirCall({ resourceType, outcome: 'rejected' }, seconds());
          throw new FhirCallError('rejected');
        }
        const timedOut = error instanceof FhirCallError && error.kind === 'timeout';
        metrics?.observeFhirCall({ resourceType, outcome: timedOut ? 'timeout' : 'error' }, seconds());
        if (!isServerFailure(error)) {
          server.consecutiveFailures = 0;
        } else if (!request.signal.aborted) {
          server.consecutiveFailures += 1;
          if (server.consecutiveFailures >= options.failureThreshold && server.breaker.closed) server.breaker.open();
        }
        throw error;
      }
    },
    stateOf(baseUrl: string): BreakerState {
      const server = servers.get(serverKey(baseUrl).key);
      return server ? stateOfBreaker(server.breaker) : 'closed';
    },
    close(): void {
      for (const server of servers.values()) server.breaker.shutdown();
      servers.clear();
      if (rotation) clearInterval(rotation);
      rotation = undefined;
    },
  };
}
