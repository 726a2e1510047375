import { describe, expect, it } from '@jest/globals';
import { patientHash } from '../../../src/security/patient-hash.js';

describe('patientHash', () => {
  it('is HMAC-SHA256 in lowercase hex (RFC 4231-style known value)', () => {
    expect(patientHash('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('keys each hash with its own secret when secrets alternate', () => {
    const known = 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8';
    const other = patientHash('another key', 'The quick brown fox jumps over the lazy dog');
    expect(patientHash('key', 'The quick brown fox jumps over the lazy dog')).toBe(known);
    expect(patientHash('another key', 'The quick brown fox jumps over the lazy dog')).toBe(other);
    expect(other).not.toBe(known);
  });

  it('depends on the secret and does not contain the id', () => {
    const a = patientHash('secret-a', 'Patient/123');
    expect(a).toBe(patientHash('secret-a', 'Patient/123'));
    expect(a).not.toBe(patientHash('secret-b', 'Patient/123'));
    expect(a).not.toBe(patientHash('secret-a', 'Patient/124'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
