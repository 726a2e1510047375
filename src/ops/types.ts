/** Metrics the request path reports; implemented with prom-client. */
export interface Metrics {
  observeRequest(labels: { service: string; status: number }, seconds: number): void;
  countCard(labels: { cardId: string; indicator: string }): void;
  countPrefetch(labels: { key: string; outcome: 'used' | 'fetched' | 'failed' }): void;
  observeFhirCall(labels: { resourceType: string; outcome: 'ok' | 'error' | 'timeout' | 'rejected' }, seconds: number): void;
  countUnrecordedCards(count: number): void;
  countFeedback(labels: { outcome: string }): void;
}
