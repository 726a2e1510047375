import * as crypto from 'node:crypto';
import { hmacKey } from '../security/secret-key.js';
import { leadingMembers, type LeadingMembers } from './json-members.js';

const CONTEXT_MEMBER = 'context';
/** The request members a call's identity is hashed from as sent: these, then the prefetch to the end. */
export const CALL_MEMBERS: readonly string[] = [CONTEXT_MEMBER];
/** The member hashed from its first byte to the end of the body (the large one, so never scanned). */
export const PREFETCH_MEMBER = 'prefetch';

/** What makes two calls the same call (clinical-policy.md §6): the hookInstance with the context and prefetch. */
export interface CallIdentity {
  readonly hookInstance: string;
  readonly context: unknown;
  readonly prefetch?: unknown;
  /**
   * The request body as received (UTF-8), when at hand: the context and prefetch are then hashed
   * as sent, which spares serialising the whole prefetch again.
   */
  readonly raw?: Uint8Array | undefined;
  /** Where {@link CALL_MEMBERS} and the prefetch stand in `raw`, when the body's reader found them already. */
  readonly members?: LeadingMembers | undefined;
}

/**
 * Feeds the context and prefetch to the digest. From the body as sent: the context's bytes when
 * it comes before the prefetch, then every byte from the prefetch's value to the end (so the
 * large prefetch is hashed, never scanned or serialised). Else their serialisation.
 */
function digestOfCall(call: CallIdentity): Buffer {
  const digest = crypto.createHash('sha1');
  const read = call.raw ? (call.members ?? leadingMembers(call.raw, CALL_MEMBERS, PREFETCH_MEMBER)) : undefined;
  if (call.raw && read?.plain) {
    const context = read.spans.get(CONTEXT_MEMBER);
    const covered = (context !== undefined || read.stopFrom !== undefined) && (read.stopFrom !== undefined || call.prefetch === undefined);
    if (covered) {
      if (context) digest.update(call.raw.subarray(context.start, context.end));
      digest.update('\u0000');
      if (read.stopFrom !== undefined) digest.update(call.raw.subarray(read.stopFrom));
      return digest.digest();
    }
  }
  return digest.update(JSON.stringify(call.context) ?? '').update('\u0000').update(JSON.stringify(call.prefetch) ?? '').digest();
}

/** The seed is an HMAC-SHA256. */
const SEED_BYTES = 32;
/** Room for the counter's digits: 16, as many as Number.MAX_SAFE_INTEGER has. */
const COUNTER_ROOM = 16;

/** SHA-256 of the bytes: the one-shot `crypto.hash` where Node has it (20.12 on), a Hash object before. */
const sha256: (data: Uint8Array) => Buffer =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'buffer') : (data) => crypto.createHash('sha256').update(data).digest();

/**
 * Card and suggestion uuids for one call, derived from a keyed hash of the call itself, so an EHR
 * retry (same hookInstance, context and prefetch) gets the same uuids and is recorded once, while
 * another call under the same hookInstance gets new ones. Nothing about the call is stored.
 * The digest is computed on the first id asked for, so a call with no card costs nothing.
 * Ids are RFC 4122 version-4 shaped (version and variant bits set; the rest from the hash).
 */
export function callIds(secret: string, call: CallIdentity): () => string {
  let input: Buffer | undefined;
  let counter = 0;
  return () => {
    if (!input) {
      const seed = crypto.createHmac('sha256', hmacKey(secret)).update(call.hookInstance).update('\u0000').update(digestOfCall(call)).digest();
      input = Buffer.alloc(SEED_BYTES + COUNTER_ROOM);
      seed.copy(input);
    }
    counter += 1;
    // The id hashes the seed then the counter's decimal digits (ASCII), written after it.
    const written = input.write(String(counter), SEED_BYTES, 'latin1');
    return uuidShaped(sha256(input.subarray(0, SEED_BYTES + written)));
  };
}

function uuidShaped(bytes: Buffer): string {
  const b6 = bytes[6] ?? 0;
  const b8 = bytes[8] ?? 0;
  bytes[6] = (b6 & 0x0f) | 0x40;
  bytes[8] = (b8 & 0x3f) | 0x80;
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
