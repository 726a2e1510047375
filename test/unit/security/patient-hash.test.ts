import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { patientHash } from '../../../src/security/patient-hash.js';

const hmacHex = (secret: string, value: string): string => createHmac('sha256', secret).update(value, 'utf8').digest('hex');

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

  it('gives each id its own HMAC again and again, past the number it remembers and across a change of secret', () => {
    const ids = Array.from({ length: 9000 }, (_, i) => `Patient/p-${i % 4500}-${i}`);
    for (const id of ids) expect(patientHash('secret-a', id)).toBe(hmacHex('secret-a', id));
    for (const id of ids.slice(-50)) expect(patientHash('secret-a', id)).toBe(hmacHex('secret-a', id));
    for (const id of ids.slice(-50)) expect(patientHash('secret-b', id)).toBe(hmacHex('secret-b', id));
    expect(patientHash('secret-a', ids[0] ?? '')).toBe(hmacHex('secret-a', ids[0] ?? ''));
  });
});
