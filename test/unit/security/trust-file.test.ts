import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, type JWK } from 'jose';
import { loadTrustFile, TrustFileError } from '../../../src/security/trust-file.js';
import { createTestKey } from '../../helpers/security/tokens.js';

let dir: string;
let publicJwk: JWK;
let privateJwk: JWK;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trust-file-'));
  const key = await createTestKey('ES384', 'k1');
  publicJwk = key.publicJwk;
  privateJwk = { ...(await exportJWK(key.privateKey)), kid: 'k1' };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function writeTrust(content: unknown): string {
  counter += 1;
  const path = join(dir, `trust-${counter}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function loadError(path: string, env: 'development' | 'production' | 'test' = 'test'): string {
  try {
    loadTrustFile(path, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(TrustFileError);
    if (error instanceof Error) return error.message;
  }
  throw new Error('expected the trust file to be refused');
}

describe('loadTrustFile', () => {
  it('parses clients with local keys, a key URL and tenants, normalising FHIR server URLs', () => {
    const path = writeTrust({
      clients: [
        {
          iss: 'https://ehr-a.example.org',
          jwks: { keys: [publicJwk] },
          fhirServers: ['https://ehr-a.example.org:443/fhir/', 'https://ehr-a.example.org/fhir'],
          tenants: ['t1'],
        },
        { iss: 'https://ehr-b.example.org', jwksUrl: 'https://keys.ehr-b.example.org/jwks.json', fhirServers: [] },
      ],
    });
    const trust = loadTrustFile(path, { env: 'production' });
    expect(trust.source).toBe(path);
    expect(trust.clients).toEqual([
      {
        iss: 'https://ehr-a.example.org',
        jwks: { keys: [publicJwk] },
        fhirServers: ['https://ehr-a.example.org/fhir'],
        tenants: ['t1'],
      },
      { iss: 'https://ehr-b.example.org', jwksUrl: 'https://keys.ehr-b.example.org/jwks.json', fhirServers: [] },
    ]);
    expect(Object.isFrozen(trust)).toBe(true);
    expect(Object.isFrozen(trust.clients[0])).toBe(true);
    expect(Object.isFrozen(trust.clients[0]?.fhirServers)).toBe(true);
  });

  it('names the file and the field of an invalid jwksUrl', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', jwksUrl: 'not a url', fhirServers: [] }] });
    expect(loadError(path)).toBe(`trust file ${path}: clients.0.jwksUrl: Invalid URL`);
  });

  it('refuses a client with both jwks and jwksUrl', () => {
    const path = writeTrust({
      clients: [{ iss: 'https://a.example', jwks: { keys: [publicJwk] }, jwksUrl: 'https://a.example/jwks', fhirServers: [] }],
    });
    expect(loadError(path)).toBe(`trust file ${path}: clients.0.jwksUrl: give exactly one of "jwks" or "jwksUrl"`);
  });

  it('refuses a client with neither jwks nor jwksUrl', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', fhirServers: [] }] });
    expect(loadError(path)).toBe(`trust file ${path}: clients.0.jwks: give exactly one of "jwks" or "jwksUrl"`);
  });

  it('refuses private key material', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', jwks: { keys: [privateJwk] }, fhirServers: [] }] });
    expect(loadError(path)).toBe(
      `trust file ${path}: clients.0.jwks.keys.0.d: private or symmetric key material must not be in the trust file`,
    );
  });

  it('refuses symmetric keys', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, fhirServers: [] }] });
    expect(loadError(path)).toContain('clients.0.jwks.keys.0.kty: must be "EC" or "RSA"');
  });

  it('refuses a key that is not a valid public key', () => {
    const path = writeTrust({
      clients: [{ iss: 'https://a.example', jwks: { keys: [{ ...publicJwk, x: 'AAAA' }] }, fhirServers: [] }],
    });
    expect(loadError(path)).toBe(`trust file ${path}: clients.0.jwks.keys.0: not a valid public key`);
  });

  it('refuses an HMAC alg on a key', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', jwks: { keys: [{ ...publicJwk, alg: 'HS256' }] }, fhirServers: [] }] });
    expect(loadError(path)).toContain('clients.0.jwks.keys.0.alg: must be one of ES256');
  });

  it('refuses http FHIR servers in production and accepts them in development', () => {
    const content = { clients: [{ iss: 'https://a.example', jwks: { keys: [publicJwk] }, fhirServers: ['http://ehr.example.org/fhir'] }] };
    const path = writeTrust(content);
    expect(loadError(path, 'production')).toBe(`trust file ${path}: clients.0.fhirServers.0: must use https in production`);
    expect(loadTrustFile(path, { env: 'development' }).clients[0]?.fhirServers).toEqual(['http://ehr.example.org/fhir']);
  });

  it('refuses an http jwksUrl in production', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', jwksUrl: 'http://a.example/jwks', fhirServers: [] }] });
    expect(loadError(path, 'production')).toBe(`trust file ${path}: clients.0.jwksUrl: must use https in production`);
  });

  it('refuses FHIR servers that are not http(s) or carry credentials or a query', () => {
    const path = writeTrust({
      clients: [
        {
          iss: 'https://a.example',
          jwks: { keys: [publicJwk] },
          fhirServers: ['ftp://ehr.example.org/fhir', 'https://user:pw@ehr.example.org/fhir', 'https://ehr.example.org/fhir?x=1'],
        },
      ],
    });
    const message = loadError(path);
    expect(message).toContain('clients.0.fhirServers.0: Invalid URL');
    expect(message).toContain('clients.0.fhirServers.1: must not carry credentials');
    expect(message).toContain('clients.0.fhirServers.2: must not carry a query or fragment');
  });

  it('refuses unknown fields', () => {
    const path = writeTrust({ clients: [{ iss: 'https://a.example', jwksUrl: 'https://a.example/jwks', fhirServers: [], jku: 'x' }] });
    expect(loadError(path)).toMatch(/^trust file .*: clients\.0: Unrecognized key: "jku"$/);
  });

  it('refuses duplicate issuers', () => {
    const client = { iss: 'https://a.example', jwksUrl: 'https://a.example/jwks', fhirServers: [] };
    const path = writeTrust({ clients: [client, client] });
    expect(loadError(path)).toBe(`trust file ${path}: clients.1.iss: duplicate issuer https://a.example`);
  });

  it('refuses the public sandbox issuer in production only', () => {
    const path = writeTrust({
      clients: [{ iss: 'https://sandbox.cds-hooks.org', jwksUrl: 'https://sandbox.cds-hooks.org/.well-known/jwks.json', fhirServers: [] }],
    });
    expect(loadError(path, 'production')).toContain('clients.0.iss: the CDS Hooks sandbox signing key is public');
    expect(loadTrustFile(path, { env: 'development' }).clients).toHaveLength(1);
  });

  it('refuses an empty client list', () => {
    const path = writeTrust({ clients: [] });
    expect(loadError(path)).toMatch(/^trust file .*: clients: Too small/);
  });

  it('names a file that is not JSON', () => {
    const path = writeTrust('{ clients: ');
    expect(loadError(path)).toBe(`trust file ${path}: not valid JSON`);
  });

  it('names a file that does not exist', () => {
    const path = join(dir, 'missing.json');
    expect(loadError(path)).toBe(`trust file ${path}: cannot be read (ENOENT)`);
  });
});
