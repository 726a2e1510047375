import { createHmac } from 'node:crypto';
import { hmacKey } from './secret-key.js';

/** How many hashes of the last secret are remembered; the memory is emptied when it is full. */
const REMEMBERED_HASHES = 4096;

let remembered: { readonly secret: string; readonly hashes: Map<string, string> } | undefined;

/**
 * Keyed hash of a patient id (or an order's `Type/id`) for logs and analytics: stable per secret,
 * not reversible without it. Returns HMAC-SHA256 as lowercase hex.
 *
 * An HMAC costs microseconds, and one chart's hooks (patient-view, order-select, order-sign) ask
 * for the same patient and orders again within seconds, so the hashes of the last secret are
 * remembered, a few thousand at most. They stay in this process's memory only.
 * @see https://cds-hooks.hl7.org/2.0/#security-and-safety
 */
export function patientHash(secret: string, patientId: string): string {
  if (remembered?.secret !== secret) remembered = { secret, hashes: new Map() };
  const { hashes } = remembered;
  let hash = hashes.get(patientId);
  if (hash === undefined) {
    hash = createHmac('sha256', hmacKey(secret)).update(patientId, 'utf8').digest('hex');
    if (hashes.size >= REMEMBERED_HASHES) hashes.clear();
    hashes.set(patientId, hash);
  }
  return hash;
}
