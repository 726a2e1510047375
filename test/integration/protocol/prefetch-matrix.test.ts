/**
 * The prefetch matrix of checklist §2.5 on every hook: what the service does with a prefetch key
 * that is present, null, an empty Bundle, an OperationOutcome, missing, or when there is no
 * prefetch at all; and how it falls back to `fhirServer` (token, paging, failures, deadline).
 * @see https://cds-hooks.hl7.org/2.0/#prefetch-template
 * @see https://cds-hooks.hl7.org/2.0/#fhir-resource-access
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import nock from 'nock';
import request, { type Response } from 'supertest';
import { createLogger } from '../../../src/logger.js';
import { expectOperationOutcome, expectValidCdsResponse } from '../../helpers/cds-response-schema.js';
import { watchUnmatchedRequests, type UnmatchedRequests } from '../../helpers/nock-watch.js';
import {
  ACCESS_TOKEN,
  ALL_HOOKS,
  buildTestApp,
  exerciseOrder,
  FHIR_BASE,
  fullPrefetch,
  hookRequest,
  HOOKS,
  neckMassageOrder,
  operationOutcomeResource,
  outcomeBundle,
  PATIENT_ID,
  searchset,
  servicePath,
  stenosisCondition,
  testServiceConfig,
  type HookName,
  type Json,
} from '../../helpers/requests.js';

const FHIR_JSON = { 'Content-Type': 'application/fhir+json' };
const DEADLINE_MS = 300;
const CALL_TIMEOUT_MS = 200;
/** A FHIR server delay far beyond jest's timeout (20 s): an answer that waited for it never comes. */
const NEVER_MS = 600_000;

let unmatched: UnmatchedRequests;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(() => {
  unmatched = watchUnmatchedRequests();
});

afterEach(() => {
  unmatched.stop();
  nock.abortPendingRequests();
  nock.cleanAll();
});

function post(hook: HookName, body: Json, app: Express = buildTestApp()): Promise<Response> {
  return request(app).post(servicePath(hook)).set('Content-Type', 'application/json').send(body);
}

/** The prefetch a client resolving everything would send, with some keys replaced or left out. */
function prefetchWith(hook: HookName, replace: Json, omit: readonly string[] = []): Json {
  const prefetch: Json = { ...fullPrefetch(hook), ...replace };
  for (const key of omit) delete prefetch[key];
  return prefetch;
}

function expectStenosisMassageCard(response: Response): void {
  expect(response.status).toBe(200);
  const body = expectValidCdsResponse(response.body);
  expect(body.cards).toHaveLength(1);
  expect(body.cards[0]).toMatchObject({ indicator: 'warning', source: { topic: { code: 'cervical-stenosis-massage' } } });
}

function expectNoCards(response: Response): void {
  expect(response.status).toBe(200);
  expect(expectValidCdsResponse(response.body)).toEqual({ cards: [] });
}

function expectDataUnavailable(response: Response): void {
  expect(response.status).toBe(412);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const outcome = expectOperationOutcome(response.body);
  expect(outcome.issue[0]).toMatchObject({ code: 'incomplete', details: { coding: [{ code: 'DATA_UNAVAILABLE' }] } });
}

function expectFhirServerNotContacted(): void {
  expect(unmatched.calls).toEqual([]);
  expect(nock.pendingMocks()).toEqual([]);
}

/** An authorised search `Type?patient=<id>&_count=200` on the FHIR server, answered with `bundle`. */
function fhirSearch(resourceType: string, bundle: Json, patientId: string = PATIENT_ID): nock.Scope {
  return nock(FHIR_BASE)
    .matchHeader('authorization', `Bearer ${ACCESS_TOKEN}`)
    .get(`/${resourceType}`)
    .query({ patient: patientId, _count: '200' })
    .reply(200, bundle, FHIR_JSON);
}

/** The searches each hook falls back to when it has no prefetch at all. */
function searchesOf(hook: HookName): string[] {
  return hook === 'patient-view' ? ['ServiceRequest', 'Condition', 'Procedure'] : ['Condition', 'Procedure'];
}

async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe.each(HOOKS)('prefetch matrix on %s', (hook) => {
  it('uses a present key and never contacts the FHIR server', async () => {
    const response = await post(hook, hookRequest(hook));
    expectStenosisMassageCard(response);
    expectFhirServerNotContacted();
  });

  it('reads a null key as "no data" without fetching', async () => {
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: null }) }));
    expectNoCards(response);
    expectFhirServerNotContacted();
  });

  it('reads an empty Bundle as "no data" without fetching', async () => {
    const empty = { resourceType: 'Bundle', type: 'searchset', total: 0 };
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: empty }) }));
    expectNoCards(response);
    expectFhirServerNotContacted();
  });

  it('fetches a key the client answered with an OperationOutcome from fhirServer', async () => {
    const search = fhirSearch('Condition', searchset([stenosisCondition()]));
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: operationOutcomeResource() }) }));
    expectStenosisMassageCard(response);
    expect(search.isDone()).toBe(true);
    expect(unmatched.calls).toEqual([]);
  });

  it('fetches a key the client answered with a Bundle of OperationOutcomes from fhirServer', async () => {
    const search = fhirSearch('Condition', searchset([stenosisCondition()]));
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: outcomeBundle() }) }));
    expectStenosisMassageCard(response);
    expect(search.isDone()).toBe(true);
  });

  it('fetches missing keys from fhirServer with the bearer token, searching by patient with _count', async () => {
    const conditions = fhirSearch('Condition', searchset([stenosisCondition()]));
    const procedures = fhirSearch('Procedure', searchset([]));
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions', 'procedures']) }));
    expectStenosisMassageCard(response);
    expect(conditions.isDone()).toBe(true);
    expect(procedures.isDone()).toBe(true);
    expect(unmatched.calls).toEqual([]);
  });

  it('fetches everything it needs when the request has no prefetch at all', async () => {
    const scopes = searchesOf(hook).map((type) =>
      fhirSearch(
        type,
        type === 'Condition'
          ? searchset([stenosisCondition()])
          : type === 'ServiceRequest'
            ? searchset([neckMassageOrder(PATIENT_ID, 'order-massage-1', 'active')])
            : searchset([]),
      ),
    );
    const response = await post(hook, hookRequest(hook, { prefetch: undefined }));
    expectStenosisMassageCard(response);
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(unmatched.calls).toEqual([]);
  });

  it('answers 412 when the FHIR server cannot be reached (network error)', async () => {
    nock(FHIR_BASE).get('/Condition').query(true).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    nock(FHIR_BASE).get('/Procedure').query(true).optionally().reply(200, searchset([]), FHIR_JSON);
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }));
    expectDataUnavailable(response);
  });

  it('answers 412 when the FHIR server refuses the connection', async () => {
    const port = await closedLoopbackPort();
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']), fhirServer: `http://127.0.0.1:${port}/fhir` }));
    expectDataUnavailable(response);
  });

  it('answers 412 when the FHIR server answers 500', async () => {
    nock(FHIR_BASE).get('/Condition').query(true).reply(500, operationOutcomeResource('boom'), FHIR_JSON);
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }));
    expectDataUnavailable(response);
  });

  // The FHIR server answers (with the stenosis) only long after jest's own timeout: a 412 can come
  // only from the service giving up, and a service that waited fails the test by that timeout.
  it('answers 412 when the FHIR server is slower than the per-call timeout', async () => {
    nock(FHIR_BASE).get('/Condition').query(true).delay(NEVER_MS).reply(200, searchset([stenosisCondition()]), FHIR_JSON);
    const app = buildTestApp({
      config: testServiceConfig({ FHIR_DEADLINE_MS: String(NEVER_MS * 2), FHIR_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS) }),
    });
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }), app);
    expectDataUnavailable(response);
  });

  it('answers 412 at the overall deadline even when the per-call timeout is longer', async () => {
    nock(FHIR_BASE).get('/Condition').query(true).delay(NEVER_MS).reply(200, searchset([stenosisCondition()]), FHIR_JSON);
    const app = buildTestApp({ config: testServiceConfig({ FHIR_DEADLINE_MS: String(DEADLINE_MS), FHIR_CALL_TIMEOUT_MS: String(NEVER_MS * 2) }) });
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }), app);
    expectDataUnavailable(response);
  });

  it('answers 412 when a key is missing and there is no fhirServer, contacting nothing', async () => {
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']), fhirServer: undefined }));
    expectDataUnavailable(response);
    expectFhirServerNotContacted();
  });

  it('follows next links on the same server (two pages)', async () => {
    const page2 = `${FHIR_BASE}/Condition?patient=${PATIENT_ID}&_count=200&page=2`;
    const first = fhirSearch('Condition', searchset([], page2));
    const second = nock(FHIR_BASE)
      .matchHeader('authorization', `Bearer ${ACCESS_TOKEN}`)
      .get('/Condition')
      .query({ patient: PATIENT_ID, _count: '200', page: '2' })
      .reply(200, searchset([stenosisCondition()]), FHIR_JSON);
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }));
    expectStenosisMassageCard(response);
    expect(first.isDone()).toBe(true);
    expect(second.isDone()).toBe(true);
  });

  it('stops following next links at FHIR_MAX_PAGES', async () => {
    const pageUrl = (page: number) => `${FHIR_BASE}/Condition?patient=${PATIENT_ID}&_count=200&page=${page}`;
    const first = fhirSearch('Condition', searchset([], pageUrl(2)));
    const second = nock(FHIR_BASE).get('/Condition').query({ patient: PATIENT_ID, _count: '200', page: '2' }).reply(200, searchset([], pageUrl(3)), FHIR_JSON);
    const third = nock(FHIR_BASE).get('/Condition').query({ patient: PATIENT_ID, _count: '200', page: '3' }).reply(200, searchset([stenosisCondition()]), FHIR_JSON);
    const app = buildTestApp({ config: testServiceConfig({ FHIR_MAX_PAGES: '2' }) });
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }), app);
    expect(response.status).toBe(200);
    expectValidCdsResponse(response.body);
    expect(first.isDone()).toBe(true);
    expect(second.isDone()).toBe(true);
    expect(third.isDone()).toBe(false);
  });

  it('does not follow a next link to another host', async () => {
    const elsewhere = nock('https://other-host.example.net')
      .get('/fhir/Condition')
      .query(true)
      .reply(200, searchset([stenosisCondition()]), FHIR_JSON);
    const first = fhirSearch('Condition', searchset([], `https://other-host.example.net/fhir/Condition?patient=${PATIENT_ID}&page=2`));
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }));
    expect(response.status).toBe(200);
    expect(expectValidCdsResponse(response.body).cards).toEqual([]);
    expect(first.isDone()).toBe(true);
    expect(elsewhere.isDone()).toBe(false);
    expect(unmatched.calls).toEqual([]);
  });

  it('never writes the fhirAuthorization token into the logs', async () => {
    const lines: string[] = [];
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const app = buildTestApp({ logger });
    fhirSearch('Condition', searchset([stenosisCondition()]));
    expectStenosisMassageCard(await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: operationOutcomeResource() }) }), app));
    nock(FHIR_BASE).get('/Condition').query(true).reply(500, operationOutcomeResource(), FHIR_JSON);
    expectDataUnavailable(await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }), app));
    nock(FHIR_BASE).get('/Condition').query(true).replyWithError('socket hang up');
    expectDataUnavailable(await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']) }), app));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const text = lines.join('\n');
    expect(text).not.toContain(ACCESS_TOKEN);
    expect(text).not.toContain(PATIENT_ID);
  });

  it('sends no Authorization header when access_token is empty (as the Da Vinci client sends it)', async () => {
    const seen: Array<string | undefined> = [];
    nock(FHIR_BASE, { badheaders: ['authorization'] })
      .get('/Condition')
      .query({ patient: PATIENT_ID, _count: '200' })
      .reply(200, function reply() {
        const header: unknown = this.req.headers['authorization'];
        seen.push(typeof header === 'string' ? header : undefined);
        return searchset([stenosisCondition()]);
      });
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, {}, ['conditions']), accessToken: '' }));
    expectStenosisMassageCard(response);
    expect(seen).toEqual([undefined]);
  });
});

describe('prefetch matrix on patient-view: the serviceRequests key', () => {
  it('reads serviceRequests: null as "no orders" and answers no cards without fetching', async () => {
    const response = await post('patient-view', hookRequest('patient-view', { prefetch: prefetchWith('patient-view', { serviceRequests: null }) }));
    expectNoCards(response);
    expectFhirServerNotContacted();
  });

  it('fetches serviceRequests answered with an OperationOutcome', async () => {
    const search = fhirSearch('ServiceRequest', searchset([neckMassageOrder(PATIENT_ID, 'order-massage-1', 'active')]));
    const response = await post(
      'patient-view',
      hookRequest('patient-view', { prefetch: prefetchWith('patient-view', { serviceRequests: operationOutcomeResource() }) }),
    );
    expectStenosisMassageCard(response);
    expect(search.isDone()).toBe(true);
  });

  it('fetches a missing serviceRequests key with ServiceRequest?patient=<id>', async () => {
    const search = fhirSearch('ServiceRequest', searchset([neckMassageOrder(PATIENT_ID, 'order-massage-1', 'active')]));
    const response = await post('patient-view', hookRequest('patient-view', { prefetch: prefetchWith('patient-view', {}, ['serviceRequests']) }));
    expectStenosisMassageCard(response);
    expect(search.isDone()).toBe(true);
  });

  it('answers {cards: []} for a chart with no conflicting orders without waiting for conditions', async () => {
    // Conditions and Procedures come only after jest's timeout; waiting for them would end at the
    // deadline with a 412 instead of the empty answer.
    nock(FHIR_BASE).get('/Condition').query(true).delay(NEVER_MS).reply(200, searchset([stenosisCondition()]), FHIR_JSON);
    nock(FHIR_BASE).get('/Procedure').query(true).delay(NEVER_MS).reply(200, searchset([]), FHIR_JSON);
    const prefetch = { serviceRequests: searchset([exerciseOrder()]) };
    const app = buildTestApp({ config: testServiceConfig({ FHIR_DEADLINE_MS: String(DEADLINE_MS), FHIR_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS) }) });
    const response = await post('patient-view', hookRequest('patient-view', { prefetch }), app);
    // Answered at all (the record's reads never come): the orders were read first and none conflicts.
    expectNoCards(response);
  });

  it('reads the record while the orders are still being fetched: one round trip when an order conflicts', async () => {
    // The orders are answered 150 ms after they are asked for; the record's reads must go out within that time, not after it.
    const ORDERS_DELAY_MS = 150;
    const arrived = new Map<string, number>();
    const search = (resourceType: string, bundle: Json, delayMs = 0): void => {
      nock(FHIR_BASE)
        .get(`/${resourceType}`)
        .query(true)
        .delay(delayMs)
        .reply(() => {
          arrived.set(resourceType, performance.now());
          return [200, bundle, FHIR_JSON];
        });
    };
    search('ServiceRequest', searchset([neckMassageOrder(PATIENT_ID, 'order-massage-1', 'active')]), ORDERS_DELAY_MS);
    search('Condition', searchset([stenosisCondition()]));
    search('Procedure', searchset([]));
    const app = buildTestApp({ config: testServiceConfig({ FHIR_DEADLINE_MS: String(DEADLINE_MS), FHIR_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS) }) });
    const response = await post('patient-view', hookRequest('patient-view', { prefetch: prefetchWith('patient-view', {}, ['serviceRequests', 'conditions', 'procedures']) }), app);
    expectStenosisMassageCard(response);
    const ordersAskedAt = arrived.get('ServiceRequest') ?? Number.NaN;
    for (const resourceType of ['Condition', 'Procedure']) expect((arrived.get(resourceType) ?? Number.POSITIVE_INFINITY) - ordersAskedAt).toBeLessThan(ORDERS_DELAY_MS / 2);
  });
});

/** checklist §2.5 (corrected): only an error or fatal issue marks a key failed; information and warning are notes. */
describe.each(ALL_HOOKS)('OperationOutcomes in a prefetch searchset on %s', (hook) => {
  const note = (severity: 'information' | 'warning') => ({
    resource: { resourceType: 'OperationOutcome', issue: [{ severity, code: 'informational', diagnostics: 'Some results may be restricted' }] },
    search: { mode: 'outcome' },
  });
  const conditionsWith = (outcome: Json): Json => ({ ...searchset([stenosisCondition()]), entry: [{ resource: stenosisCondition(), search: { mode: 'match' } }, outcome] });
  const outcomeOnly = (outcome: Json): Json => ({ resourceType: 'Bundle', type: 'searchset', total: 0, entry: [outcome] });

  it.each([
    ['with', FHIR_BASE],
    ['without', undefined],
  ])('uses the Condition beside an information outcome, %s fhirServer, and never contacts it', async (_with, fhirServer) => {
    const response = await post(hook, hookRequest(hook, { fhirServer, prefetch: prefetchWith(hook, { conditions: conditionsWith(note('information')) }) }));
    expectStenosisMassageCard(response);
    expectFhirServerNotContacted();
  });

  it.each([
    ['with', FHIR_BASE],
    ['without', undefined],
  ])('reads an outcome-only procedures searchset as no procedures, %s fhirServer', async (_with, fhirServer) => {
    const response = await post(hook, hookRequest(hook, { fhirServer, prefetch: prefetchWith(hook, { procedures: outcomeOnly(note('warning')) }) }));
    expectStenosisMassageCard(response);
    expectFhirServerNotContacted();
  });

  it('reads a lone information OperationOutcome as an empty result', async () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'No results' }] };
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: outcome }) }));
    expectNoCards(response);
    expectFhirServerNotContacted();
  });

  it('still fetches a key whose searchset carries an error outcome beside a Condition from fhirServer', async () => {
    const search = fhirSearch('Condition', searchset([stenosisCondition()]));
    const error = { resource: operationOutcomeResource('partial failure'), search: { mode: 'outcome' } };
    const response = await post(hook, hookRequest(hook, { prefetch: prefetchWith(hook, { conditions: conditionsWith(error) }) }));
    expectStenosisMassageCard(response);
    expect(search.isDone()).toBe(true);
  });

  it('answers 412 for an error outcome when there is no fhirServer', async () => {
    const response = await post(hook, hookRequest(hook, { fhirServer: undefined, prefetch: prefetchWith(hook, { procedures: outcomeBundle() }) }));
    expectDataUnavailable(response);
    expectFhirServerNotContacted();
  });
});
