/**
 * Every error the service can answer, robustness against hostile bodies, and the lenient inputs
 * real clients send.
 * @see https://cds-hooks.hl7.org/2.0/#http-response
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import nock from 'nock';
import request, { type Response } from 'supertest';
import { createApp } from '../../../src/app.js';
import { operationOutcome } from '../../../src/errors.js';
import type { FhirGateway } from '../../../src/fhir/gateway.js';
import type { Knowledge } from '../../../src/knowledge/load-knowledge.js';
import { createLogger } from '../../../src/logger.js';
import { createFhirServerPolicy } from '../../../src/security/fhir-server-policy.js';
import { createJwtAuthenticator } from '../../../src/security/jwt-authenticator.js';
import { loadTrustFile } from '../../../src/security/trust-file.js';
import type { CodeIndex } from '../../../src/terminology/code-index.js';
import { expectOperationOutcome, expectValidCdsResponse, type OperationOutcomeBody } from '../../helpers/cds-response-schema.js';
import {
  buildTestApp,
  draftOrders,
  fullPrefetch,
  hookRequest,
  neckMassageOrder,
  PATIENT_ID,
  searchset,
  servicePath,
  stenosisCondition,
  testKnowledge,
  testServiceConfig,
  type HookName,
  type Json,
} from '../../helpers/requests.js';
import { createTestKey, signToken } from '../../helpers/security/tokens.js';

/** Identifying data placed in requests; no error body may repeat it. */
const SECRET_PATIENT_ID = 'PATIENT-SECRET-ID-4711';
const SECRET_NAME = 'SECRET-PATIENT-NAME';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

afterAll(() => {
  nock.enableNetConnect();
});

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

function errorCodeOf(outcome: OperationOutcomeBody): unknown {
  const details = outcome.issue[0]?.details;
  const coding: unknown = details?.['coding'];
  return Array.isArray(coding) && typeof coding[0] === 'object' && coding[0] !== null ? Reflect.get(coding[0], 'code') : undefined;
}

/** Checks status, JSON content type and an OperationOutcome body carrying the catalogue code. */
function expectError(response: Response, status: number, code: string): OperationOutcomeBody {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const outcome = expectOperationOutcome(response.body);
  expect(errorCodeOf(outcome)).toBe(code);
  return outcome;
}

function diagnosticsOf(outcome: OperationOutcomeBody): string {
  return outcome.issue.map((issue) => issue.diagnostics ?? '').join(' | ');
}

function expectNoPatientData(response: Response): void {
  expect(response.text).not.toContain(SECRET_PATIENT_ID);
  expect(response.text).not.toContain(SECRET_NAME);
}

/** A request carrying identifying data (patient id, a named Patient in prefetch). */
function requestWithPatientData(hook: HookName): Json {
  const body = hookRequest(hook, { patientId: SECRET_PATIENT_ID, fhirServer: undefined });
  const prefetch = fullPrefetch(hook, SECRET_PATIENT_ID);
  prefetch['patient'] = { resourceType: 'Patient', id: SECRET_PATIENT_ID, name: [{ family: SECRET_NAME }] };
  return { ...body, prefetch };
}

function contextOf(body: Json): Json {
  const context = body['context'];
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new Error('test request has no context');
  return { ...context };
}

function without(body: Json, key: string): Json {
  const copy = { ...body };
  delete copy[key];
  return copy;
}

function withoutInContext(body: Json, key: string): Json {
  const context = contextOf(body);
  delete context[key];
  return { ...body, context };
}

function post(app: Express, hook: HookName, body: unknown): Promise<Response> {
  return request(app).post(servicePath(hook)).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

describe('400 INVALID_REQUEST', () => {
  const app = buildTestApp();

  it('answers 400 for a body that is not JSON, without echoing it', async () => {
    const response = await request(app)
      .post(servicePath('order-sign'))
      .set('Content-Type', 'application/json')
      .send(`{"hook":"order-sign","context":{"patientId":"${SECRET_PATIENT_ID}","name":"${SECRET_NAME}"`);
    const outcome = expectError(response, 400, 'INVALID_REQUEST');
    expect(diagnosticsOf(outcome)).toMatch(/not valid JSON/i);
    expectNoPatientData(response);
  });

  it('answers 400 for a service path whose percent-encoding does not decode, without echoing it', async () => {
    const response = await request(app).post('/cds-services/PATH-SECRET%E0%A4%A').set('Content-Type', 'application/json').send(JSON.stringify(hookRequest('order-sign')));
    expectError(response, 400, 'INVALID_REQUEST');
    expect(response.text).not.toContain('PATH-SECRET');
  });

  const cases: ReadonlyArray<{ name: string; hook: HookName; body: () => Json; mentions: RegExp }> = [
    { name: 'hook is missing', hook: 'order-sign', body: () => without(requestWithPatientData('order-sign'), 'hook'), mentions: /\bhook\b/ },
    { name: 'hookInstance is missing', hook: 'order-sign', body: () => without(requestWithPatientData('order-sign'), 'hookInstance'), mentions: /hookInstance/ },
    { name: 'context is missing', hook: 'patient-view', body: () => without(requestWithPatientData('patient-view'), 'context'), mentions: /\bcontext\b/ },
    { name: 'context.patientId is missing', hook: 'patient-view', body: () => withoutInContext(requestWithPatientData('patient-view'), 'patientId'), mentions: /patientId/ },
    { name: 'hook does not match the service', hook: 'order-sign', body: () => ({ ...requestWithPatientData('order-sign'), hook: 'patient-view' }), mentions: /hook.*patient-view|patient-view.*hook/ },
    { name: 'order-select has no selections', hook: 'order-select', body: () => withoutInContext(requestWithPatientData('order-select'), 'selections'), mentions: /selections/ },
    { name: 'order-sign has no draftOrders', hook: 'order-sign', body: () => withoutInContext(requestWithPatientData('order-sign'), 'draftOrders'), mentions: /draftOrders/ },
    {
      name: 'appointment-book has no appointments',
      hook: 'appointment-book',
      body: () => withoutInContext(requestWithPatientData('appointment-book'), 'appointments'),
      mentions: /appointments/,
    },
    {
      name: 'appointments is not a Bundle',
      hook: 'appointment-book',
      body: () => ({ ...requestWithPatientData('appointment-book'), context: { ...contextOf(requestWithPatientData('appointment-book')), appointments: [`Appointment for ${SECRET_NAME}`] } }),
      mentions: /appointments/,
    },
    {
      name: 'draftOrders is not a Bundle',
      hook: 'order-sign',
      body: () => {
        const body = requestWithPatientData('order-sign');
        return { ...body, context: { ...contextOf(body), draftOrders: { resourceType: 'List', entry: [{ item: { reference: 'ServiceRequest/1' } }] } } };
      },
      mentions: /draftOrders/,
    },
    {
      name: 'draftOrders is a string',
      hook: 'order-select',
      body: () => {
        const body = requestWithPatientData('order-select');
        return { ...body, context: { ...contextOf(body), draftOrders: `Bundle for ${SECRET_NAME}` } };
      },
      mentions: /draftOrders/,
    },
    { name: 'fhirServer is not a URL', hook: 'patient-view', body: () => ({ ...requestWithPatientData('patient-view'), fhirServer: `ehr of ${SECRET_NAME}` }), mentions: /fhirServer/ },
  ];

  it.each(cases)('answers 400 when $name, saying what is wrong and never echoing patient data', async ({ hook, body, mentions }) => {
    const response = await post(app, hook, body());
    const outcome = expectError(response, 400, 'INVALID_REQUEST');
    expect(diagnosticsOf(outcome)).toMatch(mentions);
    expectNoPatientData(response);
  });
});

describe('404, 405, 415 and 413', () => {
  it('answers 404 UNKNOWN_SERVICE for a service id that does not exist', async () => {
    const response = await request(buildTestApp()).post('/cds-services/no-such-service').send(hookRequest('order-sign'));
    expectError(response, 404, 'UNKNOWN_SERVICE');
  });

  it('answers 404 NOT_FOUND for an unknown path', async () => {
    const app = buildTestApp();
    expectError(await request(app).get('/no-such-path'), 404, 'NOT_FOUND');
    expectError(await request(app).post('/cds-services/spine-safety-order-sign/extra/segments').send({}), 404, 'NOT_FOUND');
  });

  it('answers 405 with an Allow header for GET on a service', async () => {
    const response = await request(buildTestApp()).get(servicePath('order-sign'));
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers['allow']).toMatch(/\bPOST\b/);
    expect(response.headers['allow']).not.toMatch(/\bGET\b/);
  });

  it('answers 405 with an Allow header for PUT on discovery', async () => {
    const response = await request(buildTestApp()).put('/cds-services').send({ services: [] });
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers['allow']).toMatch(/\bGET\b/);
    expect(response.headers['allow']).not.toMatch(/\bPUT\b/);
  });

  it('answers 415 for a text/plain body', async () => {
    const response = await request(buildTestApp())
      .post(servicePath('order-sign'))
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(hookRequest('order-sign')));
    expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 for a body over BODY_LIMIT_BYTES', async () => {
    const app = buildTestApp({ config: testServiceConfig({ BODY_LIMIT_BYTES: '1024' }) });
    const body = { ...hookRequest('order-sign'), extension: { 'org.example.padding': 'x'.repeat(4096) } };
    const response = await post(app, 'order-sign', body);
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('accepts a body just under BODY_LIMIT_BYTES', async () => {
    const app = buildTestApp({ config: testServiceConfig({ BODY_LIMIT_BYTES: '4096' }) });
    const body = hookRequest('order-sign', { prefetch: { conditions: searchset([stenosisCondition()]), procedures: null } });
    expect(JSON.stringify(body).length).toBeLessThan(4096);
    const response = await post(app, 'order-sign', body);
    expect(response.status).toBe(200);
    expectValidCdsResponse(response.body);
  });
});

describe('412 DATA_UNAVAILABLE', () => {
  it('answers 412 when a needed key is missing and no fhirServer is given', async () => {
    const body = hookRequest('order-sign', { prefetch: { procedures: null }, fhirServer: undefined });
    const outcome = expectError(await post(buildTestApp(), 'order-sign', body), 412, 'DATA_UNAVAILABLE');
    expect(diagnosticsOf(outcome)).toMatch(/conditions/);
  });

  it('answers 412 and never echoes the message when the gateway fails with a plain Error', async () => {
    const gateway: FhirGateway = {
      search: () => Promise.reject(new Error(`lookup of ${SECRET_NAME} failed`)),
    };
    const body = hookRequest('order-sign', { prefetch: undefined, patientId: SECRET_PATIENT_ID });
    const response = await post(buildTestApp({ gateway }), 'order-sign', body);
    expectError(response, 412, 'DATA_UNAVAILABLE');
    expectNoPatientData(response);
  });
});

describe('401 UNAUTHORIZED (trust file configured)', () => {
  let dir: string;
  let app: Express;

  beforeAll(async () => {
    const key = await createTestKey('ES384', 'errors-key-1');
    dir = mkdtempSync(join(tmpdir(), 'cds-errors-'));
    const trustPath = join(dir, 'trust.json');
    writeFileSync(trustPath, JSON.stringify({ clients: [{ iss: 'https://ehr-a.example.org', jwks: { keys: [key.publicJwk] }, fhirServers: [] }] }));
    const config = testServiceConfig({ CDS_TRUST_FILE: trustPath });
    const trust = loadTrustFile(trustPath, config);
    const logger = createLogger('silent');
    app = createApp({
      config,
      knowledge: testKnowledge(),
      logger,
      authenticator: createJwtAuthenticator(trust, config, logger),
      fhirServerPolicy: createFhirServerPolicy(trust, config),
    });
    // A token for another endpoint, signed by the trusted key, is still refused.
    wrongAudienceToken = await signToken(key, { aud: 'https://cds.example.org/cds-services', iat: Math.floor(Date.now() / 1000) });
  });

  let wrongAudienceToken = '';

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a bare 401 without a token, before reading the body', async () => {
    const response = await request(app).post(servicePath('order-sign')).set('Content-Type', 'application/json').send('{not json');
    expectError(response, 401, 'UNAUTHORIZED');
    expect(response.body).toEqual(operationOutcome('UNAUTHORIZED'));
  });

  it('answers the same bare 401 for a token the service does not accept', async () => {
    for (const authorization of ['Bearer not.a.jwt', 'Basic dXNlcjpwYXNz', `Bearer ${wrongAudienceToken}`]) {
      const response = await request(app).post(servicePath('order-sign')).set('Authorization', authorization).send(hookRequest('order-sign'));
      expectError(response, 401, 'UNAUTHORIZED');
      expect(response.body).toEqual(operationOutcome('UNAUTHORIZED'));
      expect(response.text).not.toMatch(/diagnostics|aud|expired|signature/i);
    }
  });

  it('protects discovery too', async () => {
    expectError(await request(app).get('/cds-services'), 401, 'UNAUTHORIZED');
  });
});

describe('500 INTERNAL', () => {
  /** The real knowledge, except that reading its code index fails with identifying text in the message. */
  function brokenKnowledge(): Knowledge {
    const real = testKnowledge();
    return {
      ...real,
      get codes(): CodeIndex {
        throw new Error(`code lookup failed for ${SECRET_NAME} (${SECRET_PATIENT_ID})`);
      },
    };
  }

  it('answers a generic 500 with no message, no stack trace and no patient data, and logs no message either', async () => {
    const lines: string[] = [];
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const app = buildTestApp({ knowledge: brokenKnowledge(), logger });
    const response = await post(app, 'order-sign', requestWithPatientData('order-sign'));
    expectError(response, 500, 'INTERNAL');
    expect(response.body).toEqual(operationOutcome('INTERNAL'));
    expect(response.text).not.toMatch(/SECRET|code lookup failed|\bat \S+:\d+|\.ts\b|\.js\b|stack/);
    expect(lines.join('\n')).not.toContain(SECRET_NAME);
    expect(lines.some((line) => line.includes('"internal error"'))).toBe(true);
  });

  it('keeps answering after an internal error', async () => {
    const app = buildTestApp({ knowledge: brokenKnowledge() });
    expectError(await post(app, 'order-sign', hookRequest('order-sign')), 500, 'INTERNAL');
    const discovery = await request(app).get('/cds-services');
    expect(discovery.status).toBe(200);
  });
});

/** A request for `hook` whose conditions prefetch holds the given (hostile) resources. */
function withConditions(hook: HookName, resources: unknown[]): Json {
  const prefetch = { ...fullPrefetch(hook), conditions: { resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) } };
  return hookRequest(hook, { prefetch, fhirServer: undefined });
}

/** An order-sign request whose draft orders are the given (hostile) resources. */
function withOrders(orders: unknown[], hook: HookName = 'order-sign'): Json {
  const body = hookRequest(hook, { fhirServer: undefined });
  return { ...body, context: { ...contextOf(body), draftOrders: { resourceType: 'Bundle', entry: orders.map((resource) => ({ resource })) } } };
}

function nested(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { inner: value };
  return value;
}

const stenosis = stenosisCondition();
const massage = neckMassageOrder();

const HOSTILE_BODIES: ReadonlyArray<{ name: string; hook: HookName; body: unknown }> = [
  { name: 'a JSON array', hook: 'order-sign', body: [hookRequest('order-sign')] },
  { name: 'JSON null', hook: 'order-sign', body: null },
  { name: 'a JSON number', hook: 'order-sign', body: 42 },
  { name: 'a JSON string', hook: 'order-sign', body: 'order-sign' },
  { name: 'an empty object', hook: 'order-sign', body: {} },
  { name: 'deep nesting at the top level', hook: 'order-sign', body: { ...hookRequest('order-sign'), extension: { deep: nested(3000) } } },
  { name: 'deep nesting inside a draft order', hook: 'order-sign', body: withOrders([{ ...massage, code: nested(3000) }]) },
  { name: 'deep nesting inside a condition', hook: 'patient-view', body: withConditions('patient-view', [{ ...stenosis, clinicalStatus: nested(3000) }]) },
  { name: 'arrays where objects are expected', hook: 'order-sign', body: { hook: [], hookInstance: {}, context: [] } },
  { name: 'context: null', hook: 'patient-view', body: { ...hookRequest('patient-view'), context: null } },
  { name: 'context: a string', hook: 'patient-view', body: { ...hookRequest('patient-view'), context: 'Patient/1' } },
  { name: 'prefetch: "x"', hook: 'order-sign', body: { ...hookRequest('order-sign'), prefetch: 'x' } },
  { name: 'prefetch: an array', hook: 'order-sign', body: { ...hookRequest('order-sign'), prefetch: [searchset([stenosis])] } },
  { name: 'prefetch key holding a string', hook: 'order-sign', body: hookRequest('order-sign', { prefetch: { conditions: 'Condition?patient=1', procedures: 5 }, fhirServer: undefined }) },
  { name: 'prefetch key holding an array', hook: 'order-select', body: hookRequest('order-select', { prefetch: { conditions: [stenosis], procedures: [] }, fhirServer: undefined }) },
  { name: 'prefetch with __proto__ and constructor keys', hook: 'order-sign', body: JSON.parse(`{"hook":"order-sign","hookInstance":"x","context":{"patientId":"${PATIENT_ID}","draftOrders":{"resourceType":"Bundle","entry":[]}},"prefetch":{"__proto__":{"conditions":null},"constructor":{"prototype":{"polluted":true}}}}`) },
  { name: 'Bundle entry: a string', hook: 'order-sign', body: hookRequest('order-sign', { prefetch: { conditions: { resourceType: 'Bundle', entry: 'Condition' }, procedures: null }, fhirServer: undefined }) },
  { name: 'Bundle entries that are strings, numbers and null', hook: 'order-sign', body: hookRequest('order-sign', { prefetch: { conditions: { resourceType: 'Bundle', entry: ['Condition/1', 7, null, [], true] }, procedures: null }, fhirServer: undefined }) },
  { name: 'entry resources that are strings', hook: 'order-sign', body: withConditions('order-sign', ['Condition/1', 5, null, []]) },
  { name: 'Condition with code: 5', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, code: 5 }]) },
  { name: 'Condition with coding: "x" and codings of every type', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, code: { coding: 'M48.02' } }, { ...stenosis, code: { coding: [5, null, 'x', [], { system: 5, code: {} }], text: 7 } }]) },
  { name: 'Condition with clinicalStatus: [] and verificationStatus: 5', hook: 'order-select', body: withConditions('order-select', [{ ...stenosis, clinicalStatus: [], verificationStatus: 5 }]) },
  { name: 'Condition with clinicalStatus: a string', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, clinicalStatus: 'active' }]) },
  { name: 'Condition with onsetDateTime: {} and recordedDate: []', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, onsetDateTime: {}, recordedDate: [] }]) },
  { name: 'Condition with impossible dates', hook: 'patient-view', body: withConditions('patient-view', [{ ...stenosis, onsetDateTime: '2024-13-45T99:99', abatementDateTime: '-0001', onsetPeriod: 'x' }]) },
  { name: 'Condition with abatement fields of every wrong type', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, clinicalStatus: undefined, abatementDateTime: [], abatementPeriod: 'x', abatementAge: null, abatementString: 5 }]) },
  { name: 'Condition with subject: a string and subject.reference: 5', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, subject: 'Patient/1' }, { ...stenosis, subject: { reference: 5 } }]) },
  { name: 'resourceType: 5', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, resourceType: 5 }]) },
  { name: 'draft order with code: 5 and bodySite: "neck"', hook: 'order-sign', body: withOrders([{ ...massage, code: 5, bodySite: 'neck' }]) },
  { name: 'draft order with bodySite entries of every type', hook: 'order-sign', body: withOrders([{ ...massage, bodySite: [5, 'neck', null, [], { coding: 'x', text: {} }] }]) },
  { name: 'draft order with status: 5, authoredOn: {} and id: []', hook: 'order-sign', body: withOrders([{ ...massage, status: 5, authoredOn: {}, id: [] }]) },
  { name: 'draft order with subject: [] and requester: "x"', hook: 'order-sign', body: withOrders([{ ...massage, subject: [], requester: 'x', encounter: 5 }]) },
  { name: 'draftOrders entries that are strings', hook: 'order-sign', body: withOrders(['ServiceRequest/1', null, 3, []]) },
  { name: 'draftOrders.entry: a string', hook: 'order-sign', body: { ...hookRequest('order-sign'), context: { patientId: PATIENT_ID, draftOrders: { resourceType: 'Bundle', entry: 'x' } } } },
  { name: 'selections of the wrong types', hook: 'order-select', body: { ...hookRequest('order-select'), context: { patientId: PATIENT_ID, draftOrders: draftOrders(), selections: [5, null, {}] } } },
  { name: 'selections pointing nowhere', hook: 'order-select', body: { ...hookRequest('order-select'), context: { patientId: PATIENT_ID, draftOrders: draftOrders(), selections: ['/', '//', 'ServiceRequest', '?x=1', '../../Patient/1'] } } },
  { name: 'fhirAuthorization of the wrong types', hook: 'order-sign', body: { ...hookRequest('order-sign'), fhirAuthorization: { access_token: 5, expires_in: 'soon' } } },
  { name: 'fhirServer with a non-http scheme', hook: 'order-sign', body: hookRequest('order-sign', { prefetch: undefined, fhirServer: 'file:///etc/passwd' }) },
  { name: 'a huge string in a rules-read field', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, code: { text: `cervical stenosis ${'x'.repeat(2_000_000)}` } }]) },
  { name: 'a huge condition text of many words', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, code: { text: `${'word '.repeat(300_000)}cervical stenosis` } }]) },
  { name: 'a huge order text', hook: 'order-sign', body: withOrders([{ ...massage, code: { text: `massage ${'neck, '.repeat(200_000)}` } }]) },
  { name: 'a huge patientId', hook: 'patient-view', body: hookRequest('patient-view', { patientId: 'p'.repeat(500_000), fhirServer: undefined, prefetch: undefined }) },
  { name: 'regular-expression metacharacters in texts', hook: 'order-sign', body: withConditions('order-sign', [{ ...stenosis, code: { text: '((((a+)+)+)+)$ cervical [stenosis] \\ ^$.*?' } }]) },
  {
    name: 'a chart order carrying empty and null fields',
    hook: 'patient-view',
    body: hookRequest('patient-view', {
      fhirServer: undefined,
      prefetch: { ...fullPrefetch('patient-view'), serviceRequests: searchset([{ ...neckMassageOrder(PATIENT_ID, 'order-massage-1', 'active'), note: [], extension: null, performer: {}, reasonCode: [{ text: '' }] }]) },
    }),
  },
  { name: 'extension: null and other nulls everywhere', hook: 'order-sign', body: { ...withOrders([{ ...massage, extension: null, bodySite: null }]), extension: null, fhirAuthorization: null, prefetch: null } },
];

describe('robustness against hostile bodies', () => {
  const app = buildTestApp();

  it('has a real set of hostile bodies', () => {
    expect(HOSTILE_BODIES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(HOSTILE_BODIES)('answers $name without a 5xx and with a valid body', async ({ hook, body }) => {
    const response = await post(app, hook, body);
    expect(response.status).toBeLessThan(500);
    if (response.status === 200) expectValidCdsResponse(response.body);
    else expectOperationOutcome(response.body);
  });

  // Its cost per character is measured by the benchmark, not here: this checks the reading.
  it('reads a free-text entry of many repeated phrases (about 100 KB) as the condition it names', async () => {
    const text = 'cervical stenosis? '.repeat(6000);
    const body = withConditions('order-sign', [{ ...stenosis, code: { text } }]);
    const response = await post(app, 'order-sign', body);
    expect(response.status).toBe(200);
    const cards = expectValidCdsResponse(response.body).cards;
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ indicator: 'warning', source: { topic: { code: 'cervical-stenosis-massage' } } });
    expect(cards[0]?.summary).toContain('suspected cervical stenosis');
    expect(cards[0]?.detail).toMatch(/: suspected, since 2024-03-01 \(read from its text\)/);
  });

  it('keeps answering correctly afterwards', async () => {
    const response = await post(app, 'order-sign', hookRequest('order-sign'));
    expect(response.status).toBe(200);
    const body = expectValidCdsResponse(response.body);
    expect(body.cards[0]?.source.topic?.code).toBe('cervical-stenosis-massage');
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('lenient inputs accepted', () => {
  const app = buildTestApp();

  function expectMassageCard(response: Response): void {
    expect(response.status).toBe(200);
    const body = expectValidCdsResponse(response.body);
    expect(body.cards).toHaveLength(1);
    expect(body.cards[0]?.source.topic?.code).toBe('cervical-stenosis-massage');
  }

  it('accepts unknown fields and extension on every object', async () => {
    const ext = { 'org.example.client': { note: 'kept' } };
    const order = { ...neckMassageOrder(), extension: [{ url: 'http://example.org/x', valueString: 'y' }], unknownField: 1 };
    const condition = { ...stenosisCondition(), extension: [{ url: 'http://example.org/x', valueBoolean: true }], somethingElse: 'z' };
    const body: Json = {
      ...hookRequest('order-sign', { orders: [order] }),
      extension: ext,
      futureField: { a: 1 },
      prefetch: { conditions: { ...searchset([condition]), extension: ext }, procedures: searchset([]), patient: null },
    };
    body['context'] = { ...contextOf(body), extension: ext, futureContextField: true };
    body['fhirAuthorization'] = { access_token: 'abc', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds', extension: ext };
    expectMassageCard(await post(app, 'order-sign', body));
  });

  it('accepts a draftOrders Bundle without type', async () => {
    const body = hookRequest('order-select');
    const draft: unknown = contextOf(body)['draftOrders'];
    expect(draft).not.toHaveProperty('type');
    expectMassageCard(await post(app, 'order-select', body));
  });

  it('accepts application/fhir+json', async () => {
    const response = await request(app).post(servicePath('order-sign')).set('Content-Type', 'application/fhir+json').send(JSON.stringify(hookRequest('order-sign')));
    expectMassageCard(response);
  });

  it('accepts application/json; charset=utf-8', async () => {
    const response = await request(app).post(servicePath('order-sign')).set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(hookRequest('order-sign')));
    expectMassageCard(response);
  });

  it('accepts prefetch: null and fhirAuthorization: null as "not given"', async () => {
    const conditions = nock('https://ehr.example.org').get('/fhir/Condition').query(true).reply(200, searchset([stenosisCondition()]));
    const procedures = nock('https://ehr.example.org').get('/fhir/Procedure').query(true).reply(200, searchset([]));
    const body = { ...hookRequest('order-sign'), prefetch: null, fhirAuthorization: null };
    expectMassageCard(await post(app, 'order-sign', body));
    expect(conditions.isDone() && procedures.isDone()).toBe(true);
  });
});
