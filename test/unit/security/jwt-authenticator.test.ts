import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { exportSPKI, SignJWT } from 'jose';
import nock from 'nock';
import { CdsError } from '../../../src/errors.js';
import { createJwtAuthenticator, type JwtAuthenticatorOptions } from '../../../src/security/jwt-authenticator.js';
import { parseTrustFile, type TrustConfig } from '../../../src/security/trust-file.js';
import type { Authenticator } from '../../../src/security/types.js';
import {
  AUDIENCE,
  base64url,
  captureLogs,
  createTestKey,
  ES_ISSUER,
  loggedReasons,
  NOW,
  REMOTE_ISSUER,
  REMOTE_JWKS_ORIGIN,
  REMOTE_JWKS_PATH,
  REMOTE_JWKS_URL,
  RS_ISSUER,
  signToken,
  testConfig,
  type CapturedLogs,
  type TestKey,
} from '../../helpers/security/tokens.js';

const TENANT_ISSUER = 'https://ehr-d.example.org';

let esKey: TestKey;
let rsKey: TestKey;
let remoteKey: TestKey;
let rotatedKey: TestKey;
let strangerKey: TestKey;
let trust: TrustConfig;

beforeAll(async () => {
  esKey = await createTestKey('ES384', 'es-key-1');
  rsKey = await createTestKey('RS384', 'rs-key-1');
  remoteKey = await createTestKey('ES384', 'remote-key-1');
  rotatedKey = await createTestKey('ES384', 'remote-key-2');
  // Same kid as esKey, different key material.
  strangerKey = await createTestKey('ES384', 'es-key-1');
  trust = parseTrustFile(
    {
      clients: [
        { iss: ES_ISSUER, jwks: { keys: [esKey.publicJwk] }, fhirServers: ['https://ehr-a.example.org/fhir'] },
        { iss: RS_ISSUER, jwks: { keys: [rsKey.publicJwk] }, fhirServers: [] },
        { iss: REMOTE_ISSUER, jwksUrl: REMOTE_JWKS_URL, fhirServers: [] },
        { iss: TENANT_ISSUER, jwks: { keys: [esKey.publicJwk] }, fhirServers: [], tenants: ['tenant-a'] },
      ],
    },
    'test-trust.json',
    { env: 'test' },
  );
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

afterEach(() => {
  jest.restoreAllMocks();
  nock.abortPendingRequests();
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
});

let logs: CapturedLogs;
let clock: number;

function authenticator(options: JwtAuthenticatorOptions = {}): Authenticator {
  return createJwtAuthenticator(trust, testConfig(), logs.logger, { now: () => clock, ...options });
}

beforeEach(() => {
  logs = captureLogs();
  clock = NOW;
});

/** Expects the bare 401 and returns the single logged reason. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CdsError);
  if (!(error instanceof CdsError)) throw new Error('unreachable');
  expect(error.code).toBe('UNAUTHORIZED');
  expect(error.status).toBe(401);
  expect(error.problems).toEqual([]);
  const reasons = loggedReasons(logs);
  expect(reasons).toHaveLength(1);
  return reasons[0];
}

describe('accepted tokens', () => {
  it('accepts an ES384 token from a trusted client and returns the caller', async () => {
    const token = await signToken(esKey, { jti: 'jti-es' });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toEqual({ iss: ES_ISSUER, jti: 'jti-es' });
    expect(logs.lines).toEqual([]);
  });

  it('accepts an RS384 token from a trusted client', async () => {
    const token = await signToken(rsKey, { iss: RS_ISSUER, jti: 'jti-rs' });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toEqual({ iss: RS_ISSUER, jti: 'jti-rs' });
  });

  it('accepts an aud array that contains the endpoint URL', async () => {
    const token = await signToken(esKey, { aud: ['https://other.example.org/cds-services', AUDIENCE] });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toMatchObject({ iss: ES_ISSUER });
  });

  it('accepts a token that expired within the clock skew', async () => {
    const token = await signToken(esKey, { iat: NOW - 100, exp: NOW - 10 });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toMatchObject({ iss: ES_ISSUER });
  });

  it('returns the tenant when it is one of the client tenants', async () => {
    const token = await signToken(esKey, { iss: TENANT_ISSUER, tenant: 'tenant-a', jti: 'jti-t' });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toEqual({
      iss: TENANT_ISSUER,
      tenant: 'tenant-a',
      jti: 'jti-t',
    });
  });

  it('accepts a lower-case bearer scheme', async () => {
    const token = await signToken(esKey);
    await expect(authenticator().authenticate(`bearer ${token}`, AUDIENCE)).resolves.toMatchObject({ iss: ES_ISSUER });
  });
});

describe('rejected tokens', () => {
  it('rejects a request without an Authorization header', async () => {
    expect(await rejection(authenticator().authenticate(undefined, AUDIENCE))).toBe('missing Authorization header');
  });

  it('rejects a non-Bearer Authorization header', async () => {
    expect(await rejection(authenticator().authenticate('Basic dXNlcjpwYXNz', AUDIENCE))).toBe(
      'Authorization is not a Bearer token',
    );
  });

  it('rejects a token that does not have three parts', async () => {
    expect(await rejection(authenticator().authenticate('Bearer abc.def', AUDIENCE))).toBe('malformed token');
  });

  it('rejects a token whose header is not base64url JSON', async () => {
    expect(await rejection(authenticator().authenticate('Bearer !!!.@@@.###', AUDIENCE))).toBe('malformed token header');
  });

  it('rejects an unsigned alg "none" token', async () => {
    const header = base64url({ alg: 'none', typ: 'JWT' });
    const claims = base64url({ iss: ES_ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 300, jti: 'none-1' });
    expect(await rejection(authenticator().authenticate(`Bearer ${header}.${claims}.`, AUDIENCE))).toBe('alg not allowed');
  });

  it('rejects an HS256 token keyed with the client public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(await exportSPKI(esKey.publicKey));
    const token = await new SignJWT({ iss: ES_ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 300, jti: 'hs-1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: esKey.kid })
      .sign(secret);
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('alg not allowed');
  });

  it('rejects a disallowed alg before looking up the issuer or fetching keys', async () => {
    const keys = nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).reply(200, { keys: [remoteKey.publicJwk] });
    const token = await new SignJWT({ iss: REMOTE_ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 300, jti: 'hs-2' })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT', kid: remoteKey.kid })
      .sign(new Uint8Array(64));
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('alg not allowed');
    expect(keys.isDone()).toBe(false);
    expect(logs.records()[0]).not.toHaveProperty('iss');
  });

  it('rejects a typ other than JWT', async () => {
    const token = await signToken(esKey, { typ: 'at+jwt' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('typ is not JWT');
  });

  it('rejects a token for another endpoint (aud mismatch)', async () => {
    const token = await signToken(esKey, { aud: 'https://cds.example.org/cds-services' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('aud mismatch');
  });

  it('rejects a token without aud', async () => {
    const token = await signToken(esKey, { omit: ['aud'] });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('missing aud');
  });

  it('rejects an expired token', async () => {
    const token = await signToken(esKey, { iat: NOW - 200, exp: NOW - 60 });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('token expired');
  });

  it('rejects a token without exp', async () => {
    const token = await signToken(esKey, { omit: ['exp'] });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('missing exp');
  });

  it('rejects a token without jti', async () => {
    const token = await signToken(esKey, { omit: ['jti'] });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('missing jti');
  });

  it('rejects a token issued in the future beyond the clock skew', async () => {
    const token = await signToken(esKey, { iat: NOW + 120, exp: NOW + 400 });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('iat in the future');
  });

  it('rejects a token issued longer ago than the maximum token age', async () => {
    const token = await signToken(esKey, { iat: NOW - 400, exp: NOW + 100 });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('token too old (iat)');
  });

  it('rejects a replayed jti', async () => {
    const auth = authenticator();
    const token = await signToken(esKey, { jti: 'once-only' });
    await expect(auth.authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toMatchObject({ jti: 'once-only' });
    clock = NOW + 5;
    expect(await rejection(auth.authenticate(`Bearer ${token}`, AUDIENCE))).toBe('replayed jti');
  });

  it('rejects a replayed jti even inside a new token from the same issuer', async () => {
    const auth = authenticator();
    await auth.authenticate(`Bearer ${await signToken(esKey, { jti: 'reused' })}`, AUDIENCE);
    const second = await signToken(esKey, { jti: 'reused', iat: NOW + 1 });
    expect(await rejection(auth.authenticate(`Bearer ${second}`, AUDIENCE))).toBe('replayed jti');
  });

  it('refuses new tokens when the replay cache is full, and forgets expired entries', async () => {
    const auth = authenticator({ replayCacheMaxEntries: 2 });
    await auth.authenticate(`Bearer ${await signToken(esKey, { jti: 'a', exp: NOW + 60 })}`, AUDIENCE);
    await auth.authenticate(`Bearer ${await signToken(esKey, { jti: 'b', exp: NOW + 60 })}`, AUDIENCE);
    expect(await rejection(auth.authenticate(`Bearer ${await signToken(esKey, { jti: 'c' })}`, AUDIENCE))).toBe(
      'replay cache full',
    );
    clock = NOW + 120;
    const later = await signToken(esKey, { jti: 'd', iat: clock });
    await expect(auth.authenticate(`Bearer ${later}`, AUDIENCE)).resolves.toMatchObject({ jti: 'd' });
  });

  it('rejects a kid the client does not have', async () => {
    const token = await signToken(esKey, { kid: 'no-such-kid' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('unknown kid');
  });

  it('rejects a token signed by another key under a known kid', async () => {
    const token = await signToken(strangerKey);
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('bad signature');
  });

  it('rejects an untrusted iss without fetching any key', async () => {
    const evil = nock('https://evil.example').get('/jwks.json').reply(200, { keys: [strangerKey.publicJwk] });
    const token = await signToken(strangerKey, { iss: 'https://evil.example', jku: 'https://evil.example/jwks.json' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('untrusted iss');
    expect(evil.isDone()).toBe(false);
    expect(logs.records()[0]).toMatchObject({ level: 40, iss: 'https://evil.example', reason: 'untrusted iss' });
  });

  it('rejects a jku that is not the client jwksUrl, never requesting it', async () => {
    const evil = nock('https://evil.example').get('/jwks.json').reply(200, { keys: [strangerKey.publicJwk] });
    const genuine = nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).reply(200, { keys: [remoteKey.publicJwk] });
    const token = await signToken(strangerKey, { iss: REMOTE_ISSUER, kid: remoteKey.kid, jku: 'https://evil.example/jwks.json' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('jku not allowlisted');
    expect(evil.isDone()).toBe(false);
    expect(genuine.isDone()).toBe(false);
    expect(logs.records()[0]).toMatchObject({ iss: REMOTE_ISSUER });
  });

  it('rejects any jku from a client whose keys are in the trust file', async () => {
    const evil = nock('https://evil.example').get('/jwks.json').reply(200, { keys: [esKey.publicJwk] });
    const token = await signToken(esKey, { jku: 'https://evil.example/jwks.json' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('jku not allowlisted');
    expect(evil.isDone()).toBe(false);
  });

  it('rejects a tenant the client does not list', async () => {
    const token = await signToken(esKey, { iss: TENANT_ISSUER, tenant: 'tenant-b' });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('tenant not allowed for this client');
  });

  it('rejects a token without tenant when the client lists tenants', async () => {
    const token = await signToken(esKey, { iss: TENANT_ISSUER });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe('tenant not allowed for this client');
  });

  it('does not remember the jti of a rejected token', async () => {
    const auth = authenticator();
    const wrongTenant = await signToken(esKey, { iss: TENANT_ISSUER, tenant: 'tenant-b', jti: 'retry' });
    await expect(auth.authenticate(`Bearer ${wrongTenant}`, AUDIENCE)).rejects.toBeInstanceOf(CdsError);
    const fixed = await signToken(esKey, { iss: TENANT_ISSUER, tenant: 'tenant-a', jti: 'retry' });
    await expect(auth.authenticate(`Bearer ${fixed}`, AUDIENCE)).resolves.toMatchObject({ jti: 'retry' });
  });

  it('never logs the token', async () => {
    const token = await signToken(esKey, { aud: 'https://elsewhere.example.org' });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).rejects.toBeInstanceOf(CdsError);
    expect(logs.lines).toHaveLength(1);
    const [, , signature] = token.split('.');
    expect(logs.lines.join('\n')).not.toContain(token);
    expect(logs.lines.join('\n')).not.toContain(signature);
  });
});

describe('client keys served from a jwksUrl', () => {
  it('fetches the JWK Set once and caches it', async () => {
    const keys = nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).once().reply(200, { keys: [remoteKey.publicJwk] });
    const auth = authenticator();
    for (const jti of ['r1', 'r2', 'r3']) {
      const token = await signToken(remoteKey, { iss: REMOTE_ISSUER, jku: REMOTE_JWKS_URL, jti });
      await expect(auth.authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toEqual({ iss: REMOTE_ISSUER, jti });
    }
    expect(keys.isDone()).toBe(true);
  });

  it('accepts a token without jku by using the configured jwksUrl', async () => {
    const keys = nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).reply(200, { keys: [remoteKey.publicJwk] });
    const token = await signToken(remoteKey, { iss: REMOTE_ISSUER });
    await expect(authenticator().authenticate(`Bearer ${token}`, AUDIENCE)).resolves.toMatchObject({ iss: REMOTE_ISSUER });
    expect(keys.isDone()).toBe(true);
  });

  it('refetches once on an unknown kid, no more often than the cooldown allows', async () => {
    // jose times the cooldown with Date.now: held still here, so only the test moves it past the cooldown.
    let wallClock = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => wallClock);
    const first = nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).reply(200, { keys: [remoteKey.publicJwk] });
    const auth = authenticator({ jwksCooldownMs: 300 });
    await auth.authenticate(`Bearer ${await signToken(remoteKey, { iss: REMOTE_ISSUER })}`, AUDIENCE);
    expect(first.isDone()).toBe(true);

    const rotated = nock(REMOTE_JWKS_ORIGIN)
      .get(REMOTE_JWKS_PATH)
      .reply(200, { keys: [remoteKey.publicJwk, rotatedKey.publicJwk] });
    // Inside the cooldown an unknown kid does not reach the key server.
    const early = await signToken(rotatedKey, { iss: REMOTE_ISSUER });
    expect(await rejection(auth.authenticate(`Bearer ${early}`, AUDIENCE))).toBe('unknown kid');
    expect(rotated.isDone()).toBe(false);

    wallClock += 350;
    const late = await signToken(rotatedKey, { iss: REMOTE_ISSUER });
    await expect(auth.authenticate(`Bearer ${late}`, AUDIENCE)).resolves.toMatchObject({ iss: REMOTE_ISSUER });
    expect(rotated.isDone()).toBe(true);

    // Right after that refetch, another unknown kid is refused without a third download.
    const third = nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).reply(200, { keys: [strangerKey.publicJwk] });
    const unknown = await signToken(remoteKey, { iss: REMOTE_ISSUER, kid: 'remote-key-3' });
    await expect(auth.authenticate(`Bearer ${unknown}`, AUDIENCE)).rejects.toBeInstanceOf(CdsError);
    expect(third.isDone()).toBe(false);
  });

  it('answers 401 when the key server fails', async () => {
    nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).reply(500, 'down');
    const token = await signToken(remoteKey, { iss: REMOTE_ISSUER });
    expect(await rejection(authenticator().authenticate(`Bearer ${token}`, AUDIENCE))).toBe(
      'invalid token or keys: Expected 200 OK from the JSON Web Key Set HTTP response',
    );
  });

  it('gives up on a key server slower than the timeout', async () => {
    // Answered only after jest's timeout: the download timeout is what ends the wait.
    nock(REMOTE_JWKS_ORIGIN).get(REMOTE_JWKS_PATH).delay(600_000).reply(200, { keys: [remoteKey.publicJwk] });
    const token = await signToken(remoteKey, { iss: REMOTE_ISSUER });
    expect(await rejection(authenticator({ jwksTimeoutMs: 100 }).authenticate(`Bearer ${token}`, AUDIENCE))).toBe(
      'JWK Set download timed out',
    );
  });
});
