/** How a hook call's prefetch was read (src/http/call-body.ts). */
export type PrefetchParse = 'taken' | 'kept' | 'parsed';

/** Metrics the request path reports; implemented with prom-client. */
export interface Metrics {
  observeRequest(labels: { service: string; status: number }, seconds: number): void;
  countCard(labels: { cardId: string; indicator: string }): void;
  countPrefetch(labels: { key: string; outcome: 'used' | 'fetched' | 'failed' }): void;
  /** A hook call's prefetch: taken as parsed by an earlier call, parsed apart and kept, or parsed with the body. */
  countPrefetchParse(labels: { outcome: PrefetchParse }): void;
  observeFhirCall(labels: { resourceType: string; outcome: 'ok' | 'error' | 'timeout' | 'rejected' }, seconds: number): void;
  countUnrecordedCards(count: number): void;
  countFeedback(labels: { outcome: string }): void;
  /** A card decided but held back because its decision was already shown or answered (clinical-policy.md §6). */
  countSuppressed(labels: { cardId: string; reason: string }): void;
  /** The decision history could not answer within its budget (or failed): cards shown unchecked. */
  countHistoryMiss(labels: { outcome: 'timeout' | 'error' }): void;
}

/** State of one FHIR server's circuit breaker, as the gauge reports it. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** Breaker state per FHIR server origin; implemented alongside {@link Metrics} by `createMetrics`. */
export interface BreakerMetrics {
  setBreakerState(labels: { origin: string }, state: BreakerState): void;
  /** Drops the series of an origin whose breakers were all evicted. */
  forgetBreaker(labels: { origin: string }): void;
}
