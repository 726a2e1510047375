import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/ops/metrics.js';

async function valueOf(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  const wanted = Object.entries(labels);
  return metric?.values.find((v) => wanted.every(([k, value]) => String(v.labels[k]) === value))?.value;
}

describe('createMetrics', () => {
  it('registers every service metric and the default Node.js metrics in its own registry', async () => {
    const metrics = createMetrics();
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'cds_request_duration_seconds',
        'cds_cards_total',
        'cds_prefetch_total',
        'cds_prefetch_parse_total',
        'cds_fhir_call_duration_seconds',
        'cds_cards_unrecorded_total',
        'cds_feedback_total',
        'cds_fhir_breaker_state',
        'process_cpu_user_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]),
    );
  });

  it('gives two instances separate registries', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.countFeedback({ outcome: 'accepted' });
    expect(await valueOf(first.registry, 'cds_feedback_total', { outcome: 'accepted' })).toBe(1);
    expect(await valueOf(second.registry, 'cds_feedback_total', { outcome: 'accepted' })).toBeUndefined();
  });

  it('records each call of the Metrics interface under its labels', async () => {
    const metrics = createMetrics(new Registry());
    metrics.observeRequest({ service: 'spine-safety-order-sign', status: 200 }, 0.004);
    metrics.countCard({ cardId: 'cervical-stenosis-massage', indicator: 'warning' });
    metrics.countCard({ cardId: 'cervical-stenosis-massage', indicator: 'warning' });
    metrics.countPrefetch({ key: 'conditions', outcome: 'used' });
    metrics.countPrefetchParse({ outcome: 'taken' });
    metrics.countPrefetchParse({ outcome: 'taken' });
    metrics.countPrefetchParse({ outcome: 'kept' });
    metrics.observeFhirCall({ resourceType: 'Condition', outcome: 'timeout' }, 2.5);
    metrics.countUnrecordedCards(3);
    metrics.countUnrecordedCards(0);
    metrics.countFeedback({ outcome: 'overridden' });
    metrics.setBreakerState({ origin: 'https://ehr.example.org' }, 'open');

    const { registry } = metrics;
    expect(await valueOf(registry, 'cds_request_duration_seconds', { service: 'spine-safety-order-sign', status: '200', le: '0.005' })).toBe(1);
    expect(await valueOf(registry, 'cds_cards_total', { card_id: 'cervical-stenosis-massage', indicator: 'warning' })).toBe(2);
    expect(await valueOf(registry, 'cds_prefetch_total', { key: 'conditions', outcome: 'used' })).toBe(1);
    expect(await valueOf(registry, 'cds_prefetch_parse_total', { outcome: 'taken' })).toBe(2);
    expect(await valueOf(registry, 'cds_prefetch_parse_total', { outcome: 'kept' })).toBe(1);
    expect(await valueOf(registry, 'cds_fhir_call_duration_seconds', { resource_type: 'Condition', outcome: 'timeout', le: '2.5' })).toBe(1);
    expect(await valueOf(registry, 'cds_cards_unrecorded_total', {})).toBe(3);
    expect(await valueOf(registry, 'cds_feedback_total', { outcome: 'overridden' })).toBe(1);
    expect(await valueOf(registry, 'cds_fhir_breaker_state', { server_origin: 'https://ehr.example.org' })).toBe(2);

    metrics.setBreakerState({ origin: 'https://ehr.example.org' }, 'half-open');
    expect(await valueOf(registry, 'cds_fhir_breaker_state', { server_origin: 'https://ehr.example.org' })).toBe(1);
    metrics.forgetBreaker({ origin: 'https://ehr.example.org' });
    expect(await valueOf(registry, 'cds_fhir_breaker_state', { server_origin: 'https://ehr.example.org' })).toBeUndefined();
  });

  it('folds label values that are not plain identifiers into "other"', async () => {
    const metrics = createMetrics();
    metrics.countFeedback({ outcome: 'x'.repeat(500) });
    metrics.countFeedback({ outcome: 'has spaces and "quotes"' });
    expect(await valueOf(metrics.registry, 'cds_feedback_total', { outcome: 'other' })).toBe(2);
  });
});
