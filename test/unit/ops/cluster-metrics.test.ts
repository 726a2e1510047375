import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { AggregatorRegistry, Registry } from 'prom-client';
import { groupMetricsSource, type PrimaryChannel } from '../../../src/ops/cluster-metrics.js';
import { createMetrics } from '../../../src/ops/metrics.js';

/** A worker's channel to a primary that answers each request with `answer(id)`, or never. */
function primary(answer: ((id: number) => Record<string, unknown>) | undefined): PrimaryChannel {
  const emitter = new EventEmitter();
  return {
    send: (message: unknown) => {
      const id = typeof message === 'object' && message !== null && 'id' in message && typeof message.id === 'number' ? message.id : -1;
      if (answer) setImmediate(() => emitter.emit('message', { type: 'spine-safety:group-metrics-answer', ...answer(id) }));
      return true;
    },
    on: (event, listener) => emitter.on(event, listener),
  };
}

describe('groupMetricsSource', () => {
  it('renders the text the primary collected from every worker', async () => {
    const source = groupMetricsSource(new Registry(), primary((id) => ({ id, text: 'cds_cards_total 7\n' })));
    await expect(source.metrics()).resolves.toBe('cds_cards_total 7\n');
  });

  it('fails the scrape when the primary could not collect the group', async () => {
    const source = groupMetricsSource(new Registry(), primary((id) => ({ id, failed: true })));
    await expect(source.metrics()).rejects.toThrow('did not report');
  });
});

describe('aggregating worker registries', () => {
  it('sums request counts and keeps the worst breaker state across workers', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.observeRequest({ service: 'spine-safety-order-sign', status: 200 }, 0.003);
    second.observeRequest({ service: 'spine-safety-order-sign', status: 200 }, 0.004);
    second.observeRequest({ service: 'spine-safety-order-sign', status: 200 }, 0.005);
    first.setBreakerState({ origin: 'https://ehr.example.org' }, 'open');
    second.setBreakerState({ origin: 'https://ehr.example.org' }, 'half-open');
    const text = await AggregatorRegistry.aggregate([await first.registry.getMetricsAsJSON(), await second.registry.getMetricsAsJSON()]).metrics();
    expect(text).toMatch(/^cds_request_duration_seconds_count\{service="spine-safety-order-sign",status="200"\} 3$/m);
    expect(text).toMatch(/^cds_fhir_breaker_state\{server_origin="https:\/\/ehr\.example\.org"\} 2$/m);
  });
});
