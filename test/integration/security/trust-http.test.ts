import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import express, { type ErrorRequestHandler, type Express } from 'express';
import nock from 'nock';
import request from 'supertest';
import type { Config } from '../../../src/config.js';
import { CdsError, operationOutcome } from '../../../src/errors.js';
import { callerOf, createAuthMiddleware } from '../../../src/http/authenticate.js';
import { createCorsMiddleware } from '../../../src/http/cors.js';
import { createJwtAuthenticator } from '../../../src/security/jwt-authenticator.js';
import { parseTrustFile, type TrustConfig } from '../../../src/security/trust-file.js';
import type { Authenticator } from '../../../src/security/types.js';
import {
  captureLogs,
  createTestKey,
  ES_ISSUER,
  NOW,
  PUBLIC_BASE_URL,
  signToken,
  testConfig,
  type CapturedLogs,
  type TestKey,
} from '../../helpers/security/tokens.js';

const SANDBOX_ORIGIN = 'https://sandbox.cds-hooks.org';
const REFUSED_ORIGIN = 'https://attacker.example';
const SERVICE_PATH = '/cds-services/spine-safety-order-sign';
const SERVICE_AUD = `${PUBLIC_BASE_URL}${SERVICE_PATH}`;

let key: TestKey;
let trust: TrustConfig;
let logs: CapturedLogs;

beforeAll(async () => {
  key = await createTestKey('ES384', 'http-key-1');
  trust = parseTrustFile({ clients: [{ iss: ES_ISSUER, jwks: { keys: [key.publicJwk] }, fhirServers: [] }] }, 'http-test', {
    env: 'test',
  });
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(() => {
  logs = captureLogs();
});

/** cors → auth → dummy routes → an error handler rendering CdsError like the service does. */
function buildApp(config: Config, authenticator: Authenticator | undefined): Express {
  const app = express();
  app.use(createCorsMiddleware(config));
  app.use(createAuthMiddleware(authenticator, config));
  app.get('/cds-services', (_req, res) => {
    res.json({ services: [], caller: callerOf(res) ?? null });
  });
  app.post('/cds-services/:id', (_req, res) => {
    res.json({ cards: [], caller: callerOf(res) ?? null });
  });
  const renderErrors: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    const cdsError = error instanceof CdsError ? error : new CdsError('INTERNAL');
    res.status(cdsError.status).type('application/json').send(JSON.stringify(cdsError.toOperationOutcome()));
  };
  app.use(renderErrors);
  return app;
}

function authenticatedApp(config: Config = testConfig()): Express {
  return buildApp(config, createJwtAuthenticator(trust, config, logs.logger, { now: () => NOW }));
}

describe('authentication over HTTP', () => {
  it('lets a valid token through and exposes the caller to the route', async () => {
    const token = await signToken(key, { aud: SERVICE_AUD, jti: 'ok-1' });
    const response = await request(authenticatedApp())
      .post(`${SERVICE_PATH}?trace=1`)
      .set('Authorization', `Bearer ${token}`)
      .send({ hook: 'order-sign' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ cards: [], caller: { iss: ES_ISSUER, jti: 'ok-1' } });
  });

  it('compares aud without the trailing slash of the path', async () => {
    const token = await signToken(key, { aud: `${PUBLIC_BASE_URL}/cds-services` });
    const response = await request(authenticatedApp()).get('/cds-services/').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
  });

  it('answers a bare 401 OperationOutcome with no detail', async () => {
    const response = await request(authenticatedApp()).post(SERVICE_PATH).send({});
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual(operationOutcome('UNAUTHORIZED'));
    expect(JSON.stringify(response.body)).not.toMatch(/diagnostics|Authorization header/);
  });

  it('gives the same bare 401 for a token for another endpoint, and never logs the token', async () => {
    const token = await signToken(key, { aud: `${PUBLIC_BASE_URL}/cds-services` });
    const response = await request(authenticatedApp()).post(SERVICE_PATH).set('Authorization', `Bearer ${token}`).send({});
    expect(response.status).toBe(401);
    expect(response.body).toEqual(operationOutcome('UNAUTHORIZED'));
    expect(logs.records()).toEqual([expect.objectContaining({ level: 40, reason: 'aud mismatch', iss: ES_ISSUER })]);
    const text = logs.lines.join('\n');
    expect(text).not.toContain(token);
    for (const part of token.split('.')) expect(text).not.toContain(part);
  });

  it('refuses the replay of a token that was accepted', async () => {
    const app = authenticatedApp();
    const token = await signToken(key, { aud: SERVICE_AUD });
    await request(app).post(SERVICE_PATH).set('Authorization', `Bearer ${token}`).send({}).expect(200);
    const replay = await request(app).post(SERVICE_PATH).set('Authorization', `Bearer ${token}`).send({});
    expect(replay.status).toBe(401);
  });

  it('accepts every request unverified in development mode (no authenticator)', async () => {
    const app = buildApp(testConfig(), undefined);
    const withoutToken = await request(app).post(SERVICE_PATH).send({});
    expect(withoutToken.status).toBe(200);
    expect(withoutToken.body).toEqual({ cards: [], caller: null });
    const withJunk = await request(app).post(SERVICE_PATH).set('Authorization', 'Bearer not.a.jwt').send({});
    expect(withJunk.status).toBe(200);
    expect(withJunk.body).toEqual({ cards: [], caller: null });
  });
});

describe('authentication middleware on its own', () => {
  it('lets OPTIONS requests through unauthenticated', async () => {
    const config = testConfig();
    const app = express();
    app.use(createAuthMiddleware(createJwtAuthenticator(trust, config, logs.logger, { now: () => NOW }), config));
    app.options(SERVICE_PATH, (_req, res) => {
      res.status(204).end();
    });
    app.post(SERVICE_PATH, (_req, res) => {
      res.json({});
    });
    expect((await request(app).options(SERVICE_PATH)).status).toBe(204);
    expect((await request(app).post(SERVICE_PATH).send({})).status).toBe(401);
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin with 204 before authentication', async () => {
    const response = await request(authenticatedApp())
      .options(SERVICE_PATH)
      .set('Origin', SANDBOX_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(SANDBOX_ORIGIN);
    expect(response.headers['access-control-allow-headers']).toBe('Authorization,Content-Type');
    expect(response.headers['access-control-allow-methods']).toBe('GET,POST,OPTIONS');
    expect(response.headers['access-control-max-age']).toBe('600');
    expect(response.headers['vary']).toMatch(/Origin/);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(logs.lines).toEqual([]);
  });

  it('answers a preflight from a refused origin without any CORS grant', async () => {
    const response = await request(authenticatedApp())
      .options(SERVICE_PATH)
      .set('Origin', REFUSED_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.headers['access-control-allow-headers']).toBeUndefined();
    expect(response.headers['access-control-allow-methods']).toBeUndefined();
    expect(response.headers['vary']).toMatch(/Origin/);
    expect(response.text).toBe('');
  });

  it('puts CORS headers on a 401 for an allowed origin', async () => {
    const response = await request(authenticatedApp()).post(SERVICE_PATH).set('Origin', SANDBOX_ORIGIN).send({});
    expect(response.status).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(SANDBOX_ORIGIN);
  });

  it('gives no Access-Control-Allow-Origin to a refused origin, even on success', async () => {
    const token = await signToken(key, { aud: SERVICE_AUD });
    const response = await request(authenticatedApp())
      .post(SERVICE_PATH)
      .set('Origin', REFUSED_ORIGIN)
      .set('Authorization', `Bearer ${token}`)
      .send({});
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows any origin when configured with *', async () => {
    const app = authenticatedApp(testConfig({ CORS_ORIGINS: '*' }));
    const preflight = await request(app)
      .options('/cds-services')
      .set('Origin', REFUSED_ORIGIN)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    const unauthorized = await request(app).get('/cds-services').set('Origin', REFUSED_ORIGIN);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe('*');
  });

  it('matches configured origins written with a trailing slash', async () => {
    const app = authenticatedApp(testConfig({ CORS_ORIGINS: 'https://ehr-ui.example.org/, http://localhost:8080' }));
    const response = await request(app).get('/cds-services').set('Origin', 'https://ehr-ui.example.org');
    expect(response.headers['access-control-allow-origin']).toBe('https://ehr-ui.example.org');
  });

  it('refuses to start with a CORS origin that is not an origin (checked in loadConfig)', () => {
    expect(() => createCorsMiddleware(testConfig({ CORS_ORIGINS: 'https://ehr-ui.example.org/app' }))).toThrow(
      'CORS_ORIGINS: entry must be scheme://host[:port]',
    );
  });
});
