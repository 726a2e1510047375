/**
 * Caller authentication, the fhirServer allowlist and CORS through the real app, wired by
 * `buildService` exactly as the running service is (trust file → JWT authenticator + policy).
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 * @see https://cds-hooks.hl7.org/2.0/#cross-origin-resource-sharing
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import nock from 'nock';
import request, { type Response } from 'supertest';
import { buildService } from '../../../src/bootstrap.js';
import { loadConfig } from '../../../src/config.js';
import { operationOutcome } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { expectOperationOutcome, expectValidCdsResponse, expectValidDiscoveryResponse } from '../../helpers/cds-response-schema.js';
import { watchUnmatchedRequests, type UnmatchedRequests } from '../../helpers/nock-watch.js';
import { ACCESS_TOKEN, FHIR_BASE, fullPrefetch, hookRequest, PATIENT_ID, searchset, servicePath, stenosisCondition } from '../../helpers/requests.js';
import { createTestKey, ES_ISSUER, signToken, type TestKey } from '../../helpers/security/tokens.js';

const BASE = 'https://cds.example.org';
const DISCOVERY_AUD = `${BASE}/cds-services`;
const ORDER_SIGN_AUD = `${BASE}${servicePath('order-sign')}`;
const ALLOWED_ORIGIN = 'https://sandbox.cds-hooks.org';

let key: TestKey;
let dir: string;
let app: Express;
let unmatched: UnmatchedRequests;

/** A fresh token from the trusted client, valid now, for one endpoint. */
function tokenFor(aud: string, signer: TestKey = key): Promise<string> {
  return signToken(signer, { aud, iat: Math.floor(Date.now() / 1000) });
}

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  key = await createTestKey('ES384', 'app-auth-key-1');
  dir = mkdtempSync(join(tmpdir(), 'cds-app-auth-'));
  const trustFile = join(dir, 'trust.json');
  writeFileSync(trustFile, JSON.stringify({ clients: [{ iss: ES_ISSUER, jwks: { keys: [key.publicJwk] }, fhirServers: [FHIR_BASE] }] }));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    CDS_PUBLIC_BASE_URL: BASE,
    CDS_TRUST_FILE: trustFile,
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
  });
  ({ app } = await buildService(config, createLogger('silent')));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  nock.enableNetConnect();
});

afterEach(() => {
  unmatched?.stop();
  nock.abortPendingRequests();
  nock.cleanAll();
});

function postOrderSign(body: unknown, token: string | undefined): Promise<Response> {
  const call = request(app).post(servicePath('order-sign')).set('Content-Type', 'application/json');
  return (token === undefined ? call : call.set('Authorization', `Bearer ${token}`)).send(JSON.stringify(body));
}

function expectBare401(response: Response): void {
  expect(response.status).toBe(401);
  expect(expectOperationOutcome(response.body)).toEqual(operationOutcome('UNAUTHORIZED'));
}

describe('discovery needs a JWT for the discovery URL', () => {
  it('refuses discovery without a token', async () => {
    expectBare401(await request(app).get('/cds-services'));
  });

  it('answers discovery to a token whose aud is {base}/cds-services', async () => {
    const response = await request(app).get('/cds-services').set('Authorization', `Bearer ${await tokenFor(DISCOVERY_AUD)}`);
    expect(response.status).toBe(200);
    expect(expectValidDiscoveryResponse(response.body).services).toHaveLength(4);
  });

  it('refuses discovery to a token for a service URL', async () => {
    expectBare401(await request(app).get('/cds-services').set('Authorization', `Bearer ${await tokenFor(ORDER_SIGN_AUD)}`));
  });

  it('refuses a token signed by a key the trust file does not list', async () => {
    const stranger = await createTestKey('ES384', 'app-auth-key-1');
    expectBare401(await request(app).get('/cds-services').set('Authorization', `Bearer ${await tokenFor(DISCOVERY_AUD, stranger)}`));
  });
});

describe('service calls need a JWT for that service URL', () => {
  it('answers a call whose token aud is {base}/cds-services/{id}', async () => {
    const response = await postOrderSign(hookRequest('order-sign'), await tokenFor(ORDER_SIGN_AUD));
    expect(response.status).toBe(200);
    expect(expectValidCdsResponse(response.body).cards).toHaveLength(1);
  });

  it.each([
    ['no token', undefined],
    ['a discovery token', DISCOVERY_AUD],
    ['a token for another service', `${BASE}${servicePath('order-select')}`],
    ['a token for another base URL', `https://other.example.org${servicePath('order-sign')}`],
  ])('refuses a call with %s', async (_name, aud) => {
    const token = aud === undefined ? undefined : await tokenFor(aud);
    expectBare401(await postOrderSign(hookRequest('order-sign'), token));
  });

  it.each([
    ['an unknown service', () => request(app).post('/cds-services/no-such-service').set('Content-Type', 'application/json').send('{}')],
    ['a path below a service', () => request(app).post(`${servicePath('order-sign')}/more`).set('Content-Type', 'application/json').send('{}')],
    ['a service in other letter case', () => request(app).post(servicePath('order-sign').toUpperCase()).set('Content-Type', 'application/json').send('{}')],
    ['a service with a trailing slash', () => request(app).post(`${servicePath('order-sign')}/`).set('Content-Type', 'application/json').send('{}')],
    ['the wrong method on a service', () => request(app).get(servicePath('order-sign'))],
    ['the wrong method on discovery', () => request(app).post('/cds-services').set('Content-Type', 'application/json').send('{}')],
  ])('refuses %s without a token before anything else is said', async (_name, call) => {
    expectBare401(await call());
  });

  it('refuses a replayed token', async () => {
    const token = await tokenFor(ORDER_SIGN_AUD);
    expect((await postOrderSign(hookRequest('order-sign'), token)).status).toBe(200);
    expectBare401(await postOrderSign(hookRequest('order-sign'), token));
  });
});

describe('fhirServer allowlist of the caller', () => {
  const missingConditions = (fhirServer: string) => {
    const prefetch = fullPrefetch('order-sign');
    delete prefetch['conditions'];
    return hookRequest('order-sign', { prefetch, fhirServer });
  };

  it.each([
    'https://rogue.example.net/fhir',
    'https://ehr.example.org.rogue.example.net/fhir',
    'https://ehr.example.org/fhir-other',
    'https://ehr.example.org:8443/fhir',
    'http://ehr.example.org/fhir',
    'https://ehr.example.org/',
  ])('never contacts an unlisted fhirServer (%s) and answers 412 when data is missing', async (fhirServer) => {
    unmatched = watchUnmatchedRequests();
    const origin = new URL(fhirServer).origin;
    const trap = nock(origin).get(/.*/).query(true).reply(200, searchset([stenosisCondition()]));
    const response = await postOrderSign(missingConditions(fhirServer), await tokenFor(ORDER_SIGN_AUD));
    expect(response.status).toBe(412);
    expectOperationOutcome(response.body);
    expect(trap.isDone()).toBe(false);
    expect(unmatched.calls).toEqual([]);
  });

  it('contacts a listed fhirServer with the access token', async () => {
    const search = nock(FHIR_BASE)
      .matchHeader('authorization', `Bearer ${ACCESS_TOKEN}`)
      .get('/Condition')
      .query({ patient: PATIENT_ID, _count: '200' })
      .reply(200, searchset([stenosisCondition()]));
    const response = await postOrderSign(missingConditions(FHIR_BASE), await tokenFor(ORDER_SIGN_AUD));
    expect(response.status).toBe(200);
    expect(expectValidCdsResponse(response.body).cards).toHaveLength(1);
    expect(search.isDone()).toBe(true);
  });

  it('accepts a path below the listed base', async () => {
    const search = nock(`${FHIR_BASE}/tenant-1`).get('/Condition').query(true).reply(200, searchset([stenosisCondition()]));
    const response = await postOrderSign(missingConditions(`${FHIR_BASE}/tenant-1`), await tokenFor(ORDER_SIGN_AUD));
    expect(response.status).toBe(200);
    expect(search.isDone()).toBe(true);
  });
});

describe('CORS with authentication', () => {
  it.each(['/cds-services', servicePath('order-sign'), servicePath('patient-view')])('answers the preflight for %s without a token', async (path) => {
    const response = await request(app)
      .options(path)
      .set('Origin', ALLOWED_ORIGIN)
      .set('Access-Control-Request-Method', path === '/cds-services' ? 'GET' : 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(response.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(response.headers['access-control-allow-headers']?.toLowerCase()).toMatch(/authorization/);
    expect(response.headers['access-control-allow-headers']?.toLowerCase()).toMatch(/content-type/);
  });

  it('puts CORS headers on 401 responses', async () => {
    const discovery = await request(app).get('/cds-services').set('Origin', ALLOWED_ORIGIN);
    expectBare401(discovery);
    expect(discovery.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    const service = await request(app).post(servicePath('order-sign')).set('Origin', ALLOWED_ORIGIN).send(hookRequest('order-sign'));
    expectBare401(service);
    expect(service.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
  });

  it('puts CORS headers on 412 responses', async () => {
    const prefetch = fullPrefetch('order-sign');
    delete prefetch['conditions'];
    const response = await request(app)
      .post(servicePath('order-sign'))
      .set('Origin', ALLOWED_ORIGIN)
      .set('Authorization', `Bearer ${await tokenFor(ORDER_SIGN_AUD)}`)
      .send(hookRequest('order-sign', { prefetch, fhirServer: undefined }));
    expect(response.status).toBe(412);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
  });

  it('gives an origin that is not allowed no CORS headers', async () => {
    const response = await request(app)
      .options('/cds-services')
      .set('Origin', 'https://attacker.example')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
