/**
 * A CDS client token replayed to another service instance within its lifetime is refused when
 * the instances share the store (PostgreSQL in production; the SQLite store implements the same
 * claim and is checked alongside).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { CdsError } from '../../../src/errors.js';
import { createJwtAuthenticator, type SharedReplayGuard } from '../../../src/security/jwt-authenticator.js';
import { parseTrustFile, type TrustConfig } from '../../../src/security/trust-file.js';
import type { Authenticator } from '../../../src/security/types.js';
import { AUDIENCE, captureLogs, createTestKey, ES_ISSUER, NOW, signToken, testConfig, type TestKey } from '../../helpers/security/tokens.js';
import { describeEachStore } from './store-harness.js';

let key: TestKey;
let trust: TrustConfig;

beforeAll(async () => {
  key = await createTestKey('ES384', 'es-key-1');
  trust = parseTrustFile({ clients: [{ iss: ES_ISSUER, jwks: { keys: [key.publicJwk] }, fhirServers: [] }] }, 'test-trust.json', { env: 'test' });
});

function instance(shared: SharedReplayGuard, clock: { now: number }): Authenticator {
  return createJwtAuthenticator(trust, testConfig(), captureLogs().logger, { now: () => clock.now, sharedReplay: shared });
}

async function refused(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof CdsError ? error.code : 'other';
  }
}

describeEachStore('jti replay across instances', (location) => {
  it('refuses on a second instance a token the first one accepted, and accepts new tokens', async () => {
    const clock = { now: NOW };
    const first = instance(await location().open(), clock);
    const second = instance(await location().open(), clock);
    const token = await signToken(key, { jti: 'jti-shared-1' });
    expect(await refused(first.authenticate(`Bearer ${token}`, AUDIENCE))).toBeUndefined();
    expect(await refused(second.authenticate(`Bearer ${token}`, AUDIENCE))).toBe('UNAUTHORIZED');
    const fresh = await signToken(key, { jti: 'jti-shared-2' });
    expect(await refused(second.authenticate(`Bearer ${fresh}`, AUDIENCE))).toBeUndefined();
  });

  it('lets a jti be used again once the earlier token could no longer be accepted', async () => {
    const clock = { now: NOW };
    const first = instance(await location().open(), clock);
    const second = instance(await location().open(), clock);
    expect(await refused(first.authenticate(`Bearer ${await signToken(key, { jti: 'jti-reused' })}`, AUDIENCE))).toBeUndefined();
    clock.now = NOW + 400;
    const later = await signToken(key, { jti: 'jti-reused', iat: clock.now });
    expect(await refused(second.authenticate(`Bearer ${later}`, AUDIENCE))).toBeUndefined();
  });
});

describe('jti replay when the shared record fails', () => {
  it('judges by the instance alone: accepts a new token, still refuses one replayed to the same instance', async () => {
    const clock = { now: NOW };
    const down = instance({ claimToken: () => Promise.reject(new Error('database down')) }, clock);
    const token = await signToken(key, { jti: 'jti-down' });
    expect(await refused(down.authenticate(`Bearer ${token}`, AUDIENCE))).toBeUndefined();
    expect(await refused(down.authenticate(`Bearer ${token}`, AUDIENCE))).toBe('UNAUTHORIZED');
  });
});
