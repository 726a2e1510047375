import { beforeAll, afterAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import request from 'supertest';
import { createOpsRouter, type Readiness } from '../../../src/http/ops-routes.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { opsApp, orderSignBody, ORDER_SIGN_PATH } from '../../helpers/ops-app.js';

const READY = async (): Promise<Readiness> => ({ ready: true, checks: { knowledge: 'ok', store: 'ok' } });

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

afterAll(() => {
  nock.enableNetConnect();
});

describe('ops routes', () => {
  it('answers /healthz with 200 while the process is alive, without authentication', async () => {
    const metrics = createMetrics();
    const app = opsApp({ metrics, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: READY })] });
    const response = await request(app).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers /readyz with 200 and the checks when ready', async () => {
    const metrics = createMetrics();
    const app = opsApp({ metrics, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: READY })] });
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { knowledge: 'ok', store: 'ok' } });
  });

  it('answers /readyz with 503 and the failing checks when the store cannot be reached', async () => {
    const metrics = createMetrics();
    const readiness = async (): Promise<Readiness> => ({ ready: false, checks: { knowledge: 'ok', store: 'fail' } });
    const app = opsApp({ metrics, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness })] });
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: 'not-ready', checks: { store: 'fail' } });
  });

  it('answers /readyz with 503 when the readiness check throws or hangs', async () => {
    const metrics = createMetrics();
    const throwing = opsApp({
      metrics,
      publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: () => Promise.reject(new Error('store down')) })],
    });
    const hanging = opsApp({
      metrics,
      publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: () => new Promise<Readiness>(() => undefined), readinessTimeoutMs: 50 })],
    });
    for (const app of [throwing, hanging]) {
      const response = await request(app).get('/readyz');
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ status: 'not-ready', checks: { readiness: 'fail' } });
    }
  });

  it('refuses other methods on the probe paths with 405', async () => {
    const metrics = createMetrics();
    const app = opsApp({ metrics, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: READY })] });
    const response = await request(app).post('/metrics');
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('GET, HEAD');
  });

  it('serves /metrics in the Prometheus text format with the service metrics after a CDS call', async () => {
    const metrics = createMetrics();
    const app = opsApp({ metrics, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: READY })] });
    const call = await request(app).post(ORDER_SIGN_PATH).send(orderSignBody({ prefetch: true }));
    expect(call.status).toBe(200);
    expect(call.body.cards).toHaveLength(1);

    const response = await request(app).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.text;
    expect(text).toMatch(/^cds_request_duration_seconds_count\{service="spine-safety-order-sign",status="200"\} 1$/m);
    expect(text).toMatch(/^cds_cards_total\{card_id="cervical-stenosis-massage",indicator="warning"\} 1$/m);
    expect(text).toMatch(/^cds_prefetch_total\{key="conditions",outcome="used"\} 1$/m);
    expect(text).toMatch(/^cds_prefetch_total\{key="procedures",outcome="used"\} 1$/m);
    expect(text).toMatch(/^cds_prefetch_parse_total\{outcome="parsed"\} 1$/m);
    for (const name of ['cds_fhir_call_duration_seconds', 'cds_cards_unrecorded_total', 'cds_feedback_total', 'cds_fhir_breaker_state']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('does not count the probes themselves as CDS requests', async () => {
    const metrics = createMetrics();
    const app = opsApp({ metrics, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: READY })] });
    await request(app).get('/healthz');
    await request(app).get('/readyz');
    const text = (await request(app).get('/metrics')).text;
    expect(text).not.toMatch(/^cds_request_duration_seconds_count/m);
  });
});
