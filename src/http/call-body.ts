import { CALL_MEMBERS, PREFETCH_MEMBER } from '../hooks/call-ids.js';
import { closingBrace, leadingMembers, trimSpaceEnd, type LeadingMembers } from '../hooks/json-members.js';
import type { PrefetchParse } from '../ops/types.js';
import type { PrefetchCache } from './prefetch-cache.js';

/** A hook call's body as parsed, with where its members stand in the bytes (found on the way). */
export interface CallBody {
  readonly value: unknown;
  /** The context's span and where the prefetch starts, when the body is a plain JSON object. */
  readonly members: LeadingMembers | undefined;
  /** How the prefetch was read: taken as an earlier call parsed it, parsed apart and kept, or with the body. */
  readonly prefetch: PrefetchParse;
}

/**
 * Parses a hook call's body (UTF-8 JSON text that `parse` reads whole), reading the prefetch
 * apart when it is the body's last member and its bytes came before (see prefetch-cache.ts).
 *
 * The body is then parsed as its envelope (the prefetch's value replaced by `null`) and its
 * prefetch value: the prefetch text is a whole JSON value (it parsed alone) standing where the
 * envelope's last member has `null`, so the two give what parsing the whole body gives. Anything
 * else (another member after the prefetch, a duplicate, a parse error) is parsed whole by `parse`,
 * which alone decides what is valid JSON.
 */
export function parseCallBody(bytes: Buffer, cache: PrefetchCache | undefined, parse: (text: string) => unknown): CallBody {
  const read = leadingMembers(bytes, CALL_MEMBERS, PREFETCH_MEMBER);
  const members = read.plain ? read : undefined;
  const from = read.stopFrom;
  if (cache && members && from !== undefined) {
    const brace = closingBrace(bytes);
    const end = brace > from ? trimSpaceEnd(bytes, from, brace) : -1;
    if (end > from) {
      const prefetchBytes = bytes.subarray(from, end);
      const recalled = cache.recall(prefetchBytes);
      if (recalled.kind !== 'new') {
        const envelope = parseEnvelope(bytes, from, brace);
        if (envelope) {
          if (recalled.kind === 'value') {
            envelope[PREFETCH_MEMBER] = recalled.value;
            return { value: envelope, members, prefetch: 'taken' };
          }
          const prefetch = parseValue(prefetchBytes);
          if (prefetch.parsed) {
            envelope[PREFETCH_MEMBER] = prefetch.value;
            return { value: envelope, members, prefetch: cache.keep(prefetchBytes, prefetch.value) ? 'kept' : 'parsed' };
          }
          cache.refuse(prefetchBytes);
        }
      }
    }
  }
  return { value: parse(bytes.toString('utf8')), members, prefetch: 'parsed' };
}

/** The body with the prefetch's value taken for `null`, when it parses so with that `null` as its last member. */
function parseEnvelope(bytes: Buffer, from: number, brace: number): Record<string, unknown> | undefined {
  let envelope: unknown;
  try {
    envelope = JSON.parse(`${bytes.toString('utf8', 0, from)}null${bytes.toString('utf8', brace)}`);
  } catch {
    return undefined;
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) return undefined;
  const record = envelope as Record<string, unknown>;
  return Object.hasOwn(record, PREFETCH_MEMBER) && record[PREFETCH_MEMBER] === null ? record : undefined;
}

function parseValue(bytes: Buffer): { parsed: true; value: unknown } | { parsed: false } {
  try {
    return { parsed: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { parsed: false };
  }
}
