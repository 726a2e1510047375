import { describe, expect, it } from '@jest/globals';
import { createFhirServerPolicy } from '../../../src/security/fhir-server-policy.js';
import { parseTrustFile, type TrustConfig } from '../../../src/security/trust-file.js';
import type { Caller } from '../../../src/security/types.js';

const EHR: Caller = { iss: 'https://ehr.example.org' };
const OTHER: Caller = { iss: 'https://other-ehr.example.org' };
const UNKNOWN: Caller = { iss: 'https://unknown.example.org' };

function trust(env: 'development' | 'production' | 'test', servers: string[]): TrustConfig {
  return parseTrustFile(
    {
      clients: [
        { iss: EHR.iss, jwksUrl: 'https://ehr.example.org/jwks.json', fhirServers: servers },
        { iss: OTHER.iss, jwksUrl: 'https://other-ehr.example.org/jwks.json', fhirServers: ['https://other-ehr.example.org/r4'] },
      ],
    },
    'policy-test',
    { env },
  );
}

describe('FHIR server allowlist with a trust file', () => {
  const policy = createFhirServerPolicy(trust('test', ['https://ehr.example.org/fhir', 'http://test-ehr.example.org:8080/base/']), {
    env: 'test',
  });

  it.each([
    ['https://ehr.example.org/fhir'],
    ['https://ehr.example.org/fhir/'],
    ['https://ehr.example.org/fhir/r4'],
    ['https://ehr.example.org:443/fhir'],
    ['https://EHR.example.org/fhir'],
    ['http://test-ehr.example.org:8080/base'],
    ['http://test-ehr.example.org:8080/base/r4/'],
  ])('allows %s for its client', (url) => {
    expect(policy.isAllowed(EHR, url)).toBe(true);
  });

  it.each([
    ['https://ehr.example.org/fhirx', 'path prefix not on a segment boundary'],
    ['https://ehr.example.org/', 'parent path'],
    ['https://ehr.example.org/other', 'other path'],
    ['https://ehr.example.org/fhir/../admin', 'dot segments leaving the base'],
    ['https://ehr.example.org.evil.com/fhir', 'host suffix'],
    ['https://evil.com/ehr.example.org/fhir', 'host in path'],
    ['http://ehr.example.org/fhir', 'other scheme'],
    ['https://ehr.example.org:8443/fhir', 'other port'],
    ['http://test-ehr.example.org/base', 'default port instead of 8080'],
    ['https://user@ehr.example.org/fhir', 'credentials'],
    ['https://ehr.example.org/fhir?_format=json', 'query'],
    ['ftp://ehr.example.org/fhir', 'not http'],
    ['not a url', 'not a URL'],
    ['https://other-ehr.example.org/r4', "another client's server"],
  ])('refuses %s (%s)', (url) => {
    expect(policy.isAllowed(EHR, url)).toBe(false);
  });

  it("allows each client only its own servers", () => {
    expect(policy.isAllowed(OTHER, 'https://other-ehr.example.org/r4')).toBe(true);
    expect(policy.isAllowed(OTHER, 'https://ehr.example.org/fhir')).toBe(false);
  });

  it('allows nothing without a caller or for an unknown issuer', () => {
    expect(policy.isAllowed(undefined, 'https://ehr.example.org/fhir')).toBe(false);
    expect(policy.isAllowed(UNKNOWN, 'https://ehr.example.org/fhir')).toBe(false);
  });

  it('allows a registered root server and everything below it', () => {
    const rootPolicy = createFhirServerPolicy(trust('test', ['https://ehr.example.org']), { env: 'test' });
    expect(rootPolicy.isAllowed(EHR, 'https://ehr.example.org/')).toBe(true);
    expect(rootPolicy.isAllowed(EHR, 'https://ehr.example.org/fhir/r4')).toBe(true);
    expect(rootPolicy.isAllowed(EHR, 'https://ehr.example.org.evil.com/')).toBe(false);
  });
});

describe('FHIR server policy in production', () => {
  it('requires https', () => {
    const policy = createFhirServerPolicy(trust('production', ['https://ehr.example.org/fhir']), { env: 'production' });
    expect(policy.isAllowed(EHR, 'https://ehr.example.org/fhir')).toBe(true);
    expect(policy.isAllowed(EHR, 'http://ehr.example.org/fhir')).toBe(false);
  });
});

describe('FHIR server policy without a trust file (development)', () => {
  const policy = createFhirServerPolicy(undefined, { env: 'development' });

  it('allows any http(s) URL, with or without a caller', () => {
    expect(policy.isAllowed(undefined, 'http://localhost:8080/fhir')).toBe(true);
    expect(policy.isAllowed(undefined, 'https://launch.smarthealthit.org/v/r4/fhir')).toBe(true);
    expect(policy.isAllowed(EHR, 'https://anything.example.org/')).toBe(true);
  });

  it('still refuses what is not an http(s) URL', () => {
    expect(policy.isAllowed(undefined, 'file:///etc/passwd')).toBe(false);
    expect(policy.isAllowed(undefined, 'javascript:alert(1)')).toBe(false);
    expect(policy.isAllowed(undefined, '/relative/fhir')).toBe(false);
  });
});
