import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerMetrics, BreakerState, Metrics } from './types.js';

/** The service's metrics plus the registry `/metrics` renders. */
export interface ServiceMetrics extends Metrics, BreakerMetrics {
  readonly registry: Registry;
}

/** Gauge values of `cds_fhir_breaker_state`. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** Request latencies are expected in single-digit milliseconds, with the CRD 5 s ceiling as the last bucket. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** FHIR calls are network round trips bounded by the per-call timeout. */
const FHIR_CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const SAFE_LABEL = /^[A-Za-z0-9._:/-]{1,100}$/;

/** Label values come from the knowledge and the code, never from clients; this keeps a slip from exploding cardinality. */
function bounded(value: string): string {
  return SAFE_LABEL.test(value) ? value : 'other';
}

/**
 * Prometheus metrics for the request path, in their own registry (default Node.js process
 * metrics included), so tests and several app instances never share global state.
 * Pass a registry to collect into one the caller already owns; it must not hold default metrics yet.
 * @see https://prometheus.io/docs/practices/naming/
 */
/** Most label sets a pre-bound cache keeps; beyond it each call binds its labels afresh. */
const MAX_BOUND_LABEL_SETS = 1000;

/**
 * The hot path's label sets are few (service × status, card id × indicator, prefetch key ×
 * outcome, card id × reason), so each is bound once with `labels()` and kept: a call then builds
 * no label object and checks no value against {@link SAFE_LABEL} (prom-client still hashes the
 * bound labels on each `observe`/`inc`).
 */
function boundLabels<T>(bind: (...values: string[]) => T): (...values: string[]) => T {
  const cache = new Map<string, T>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = cache.get(key);
    if (child === undefined) {
      child = bind(...values);
      if (cache.size < MAX_BOUND_LABEL_SETS) cache.set(key, child);
    }
    return child;
  };
}

export function createMetrics(registry: Registry = new Registry()): ServiceMetrics {
  collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'cds_request_duration_seconds',
    help: 'CDS service calls by service id and HTTP status, from first byte in to response finished',
    labelNames: ['service', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const cards = new Counter({
    name: 'cds_cards_total',
    help: 'Cards returned, by card id and indicator',
    labelNames: ['card_id', 'indicator'] as const,
    registers: [registry],
  });
  const prefetch = new Counter({
    name: 'cds_prefetch_total',
    help: 'Prefetch keys read: used from the request, fetched from the FHIR server, or failed (412)',
    labelNames: ['key', 'outcome'] as const,
    registers: [registry],
  });
  const prefetchParses = new Counter({
    name: 'cds_prefetch_parse_total',
    help: 'Hook call prefetches: taken as parsed by an earlier call with the same bytes, parsed apart and kept, or parsed with the body (seen first, small, absent, or the cache off)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const fhirCalls = new Histogram({
    name: 'cds_fhir_call_duration_seconds',
    help: 'Searches against EHR FHIR servers (all pages), by resource type and outcome; _count is the call count',
    labelNames: ['resource_type', 'outcome'] as const,
    buckets: FHIR_CALL_BUCKETS,
    registers: [registry],
  });
  const unrecorded = new Counter({
    name: 'cds_cards_unrecorded_total',
    help: 'Issued cards that could not be recorded for analytics',
    registers: [registry],
  });
  const feedback = new Counter({
    name: 'cds_feedback_total',
    help: 'Feedback items received, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const suppressed = new Counter({
    name: 'cds_cards_suppressed_total',
    help: 'Cards decided but held back because the same decision was already shown or answered, by card id and reason',
    labelNames: ['card_id', 'reason'] as const,
    registers: [registry],
  });
  const historyMisses = new Counter({
    name: 'cds_decision_history_misses_total',
    help: 'Decision history lookups that did not answer within the budget (timeout) or failed (error); the cards were shown',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const breaker = new Gauge({
    name: 'cds_fhir_breaker_state',
    help: 'Circuit breaker per FHIR server origin: 0 closed, 1 half-open, 2 open (the worst of the origin\'s base paths)',
    labelNames: ['server_origin'] as const,
    // Across cluster workers the worst state counts, not the sum.
    aggregator: 'max',
    registers: [registry],
  });

  const requestSeries = boundLabels((service, status) => requestDuration.labels({ service: bounded(service), status }));
  const cardSeries = boundLabels((cardId, indicator) => cards.labels({ card_id: bounded(cardId), indicator: bounded(indicator) }));
  const prefetchSeries = boundLabels((key, outcome) => prefetch.labels({ key: bounded(key), outcome }));
  const prefetchParseSeries = boundLabels((outcome) => prefetchParses.labels({ outcome }));
  const suppressedSeries = boundLabels((cardId, reason) => suppressed.labels({ card_id: bounded(cardId), reason: bounded(reason) }));

  return {
    registry,
    observeRequest({ service, status }, seconds) {
      requestSeries(service, String(status)).observe(seconds);
    },
    countCard({ cardId, indicator }) {
      cardSeries(cardId, indicator).inc();
    },
    countPrefetch({ key, outcome }) {
      prefetchSeries(key, outcome).inc();
    },
    countPrefetchParse({ outcome }) {
      prefetchParseSeries(outcome).inc();
    },
    observeFhirCall({ resourceType, outcome }, seconds) {
      fhirCalls.observe({ resource_type: bounded(resourceType), outcome }, seconds);
    },
    countUnrecordedCards(count) {
      if (count > 0) unrecorded.inc(count);
    },
    countFeedback({ outcome }) {
      feedback.inc({ outcome: bounded(outcome) });
    },
    countSuppressed({ cardId, reason }) {
      suppressedSeries(cardId, reason).inc();
    },
    countHistoryMiss({ outcome }) {
      historyMisses.inc({ outcome });
    },
    setBreakerState({ origin }, state) {
      breaker.set({ server_origin: bounded(origin) }, BREAKER_STATE_VALUE[state]);
    },
    forgetBreaker({ origin }) {
      breaker.remove({ server_origin: bounded(origin) });
    },
  };
}
