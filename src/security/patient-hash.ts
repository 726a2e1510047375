import { createHmac } from 'node:crypto';
import { hmacKey } from './secret-key.js';

/**
 * Keyed hash of a patient id for logs and analytics: stable per secret, not reversible without it.
 * Returns HMAC-SHA256 as lowercase hex.
 * @see https://cds-hooks.hl7.org/2.0/#security-and-safety
 */
export function patientHash(secret: string, patientId: string): string {
  return createHmac('sha256', hmacKey(secret)).update(patientId, 'utf8').digest('hex');
}
