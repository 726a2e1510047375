import { createSecretKey, type KeyObject } from 'node:crypto';

let last: { readonly secret: string; readonly key: KeyObject } | undefined;

/**
 * The HMAC key of a secret as a KeyObject, made once: `createHmac` given the string itself
 * prepares the same key again on every call. The same bytes as the string's UTF-8, so the same
 * HMACs. One secret is remembered (a process has one), never more.
 */
export function hmacKey(secret: string): KeyObject {
  if (last?.secret !== secret) last = { secret, key: createSecretKey(secret, 'utf8') };
  return last.key;
}
