import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import nock from 'nock';
import request from 'supertest';
import { createBreakerGateway } from '../../../src/fhir/breaker-gateway.js';
import { FhirCallError, type FhirGateway, type FhirSearch, type FhirSearchResult } from '../../../src/fhir/gateway.js';
import { createOpsRouter } from '../../../src/http/ops-routes.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { opsApp, orderSignBody, ORDER_SIGN_PATH } from '../../helpers/ops-app.js';

const FHIR_SERVER = 'https://ehr.example.org/fhir';
const SLOW_MS = 150;
const RESET_MS = 300;

/** A FHIR server that times out after SLOW_MS until it is told to recover. */
function slowServer() {
  const state = { healthy: false, calls: 0 };
  const gateway: FhirGateway = {
    async search(search: FhirSearch): Promise<FhirSearchResult> {
      state.calls += 1;
      if (state.healthy) return { resources: [], truncated: false };
      await delay(SLOW_MS, undefined, { signal: search.signal }).catch(() => undefined);
      throw new FhirCallError('timeout');
    },
  };
  return { gateway, state };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

afterAll(() => {
  nock.enableNetConnect();
});

describe('FHIR circuit breaker through the app', () => {
  it('answers 412 without calling the server while the breaker is open, and recovers after the reset time', async () => {
    const { gateway: inner, state } = slowServer();
    const metrics = createMetrics();
    const gateway = createBreakerGateway(inner, { failureThreshold: 2, resetMs: RESET_MS, metrics });
    const app = opsApp({ metrics, gateway, publicRouters: [createOpsRouter({ registry: metrics.registry, readiness: async () => ({ ready: true, checks: {} }) })] });
    const body = orderSignBody({ prefetch: false, fhirServer: FHIR_SERVER });
    try {
      for (let i = 0; i < 2; i += 1) {
        const callsBefore = state.calls;
        const slow = await request(app).post(ORDER_SIGN_PATH).send(body);
        expect(slow.status).toBe(412);
        expect(slow.body.issue[0].diagnostics).toContain('(timed out)');
        expect(state.calls).toBeGreaterThan(callsBefore);
      }
      expect(gateway.stateOf(FHIR_SERVER)).toBe('open');
      const callsWhenOpened = state.calls;

      // Open: refused at once, without a call to the server.
      const refused = await request(app).post(ORDER_SIGN_PATH).send(body);
      expect(refused.status).toBe(412);
      expect(refused.body.issue[0].details.coding[0].code).toBe('DATA_UNAVAILABLE');
      expect(refused.body.issue[0].diagnostics).toContain('(rejected)');
      expect(refused.body.issue[0].diagnostics).not.toContain('(timed out)');
      expect(state.calls).toBe(callsWhenOpened);

      const text = (await request(app).get('/metrics')).text;
      expect(text).toMatch(/^cds_fhir_breaker_state\{server_origin="https:\/\/ehr\.example\.org"\} 2$/m);
      expect(text).toMatch(/^cds_fhir_call_duration_seconds_count\{resource_type="Condition",outcome="rejected"\} [1-9]/m);
      expect(text).toMatch(/^cds_request_duration_seconds_count\{service="spine-safety-order-sign",status="412"\} 3$/m);

      state.healthy = true;
      await delay(RESET_MS + 50);
      // Half-open lets one trial call through (Conditions); the parallel Procedures read is still
      // rejected, so this request gets 412, but the trial's success closes the breaker.
      const trial = await request(app).post(ORDER_SIGN_PATH).send(body);
      expect(trial.status).toBe(412);
      const recovered = await request(app).post(ORDER_SIGN_PATH).send(body);
      expect(recovered.status).toBe(200);
      expect(recovered.body).toEqual({ cards: [] });
      expect(gateway.stateOf(FHIR_SERVER)).toBe('closed');
    } finally {
      gateway.close();
    }
  });
});
