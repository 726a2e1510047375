/**
 * Prefetches already parsed, remembered by their bytes as sent.
 *
 * One chart's hooks send the same prefetch again and again: patient-view when it opens,
 * order-select each time the orders picked change, order-sign when they are signed. Parsing that
 * prefetch is most of what a call costs (a 40-Condition chart is about 37 KB of JSON), so the value
 * parsed from one call is kept for the next call that sends the very same bytes.
 *
 * A value is kept only once the same bytes have come twice, so a prefetch seen once costs a note
 * of its key and nothing more. The values are shared between calls: nothing downstream may change
 * them (test/integration/protocol/prefetch-cache.test.ts holds every fixture to that). Entries go
 * after `ttlMs` from when they were kept (checked at each call), and the oldest go first when the
 * bytes kept pass `maxBytes`.
 */

export interface PrefetchCacheOptions {
  /** Most prefetch bytes kept (the parsed values take about 1.7 times as much again on the heap). */
  readonly maxBytes: number;
  /** How long a value is kept after it was parsed. */
  readonly ttlMs: number;
  /** Smaller prefetches are not remembered (parsing them costs next to nothing); default 2048. */
  readonly minBytes?: number;
  /** Milliseconds, as `Date.now`. */
  readonly now: () => number;
}

/** What the memory holds for a prefetch's bytes. */
export type Recall =
  /** The value parsed from exactly these bytes. */
  | { readonly kind: 'value'; readonly value: unknown }
  /** These bytes (or bytes of the same key) came once before: worth parsing apart and keeping. */
  | { readonly kind: 'seen' }
  /** Never seen, or known not to be the whole prefetch value (another member follows it). */
  | { readonly kind: 'new' };

export interface PrefetchCache {
  /** What is known of these bytes; notes them as seen when they are new. */
  recall(bytes: Uint8Array): Recall;
  /** Keeps the value parsed from these bytes (copied: the request's buffer is not held). */
  keep(bytes: Uint8Array, value: unknown): void;
  /** These bytes turned out not to be a JSON value of their own: do not try them apart again. */
  refuse(bytes: Uint8Array): void;
  /** Bytes and entries held now. */
  size(): { readonly bytes: number; readonly entries: number };
}

interface Entry {
  readonly at: number;
  /** The bytes a value was parsed from; absent while only seen or refused. */
  readonly bytes?: Buffer;
  readonly value?: unknown;
  readonly refused?: true;
}

const DEFAULT_MIN_BYTES = 2048;
/** Entries kept for prefetches seen only once (a key and a time each), at most. */
const MAX_SEEN = 4096;
/** Bytes read for a key: the first and the last of them, and samples spread over the rest. */
const KEY_EDGE = 512;
const KEY_SAMPLES = 256;

const NEW: Recall = Object.freeze({ kind: 'new' });
const SEEN: Recall = Object.freeze({ kind: 'seen' });

/**
 * A 32-bit FNV-1a over the length, the first and last 512 bytes and 256 samples in between: not
 * a digest, only a way to find the one entry whose bytes are then compared in full.
 */
export function keyOf(bytes: Uint8Array): number {
  const length = bytes.length;
  let hash = (0x811c9dc5 ^ length) >>> 0;
  const head = Math.min(length, KEY_EDGE);
  for (let i = 0; i < head; i += 1) hash = Math.imul(hash ^ (bytes[i] ?? 0), 0x01000193);
  const tailFrom = Math.max(head, length - KEY_EDGE);
  const step = Math.max(1, Math.floor((tailFrom - head) / KEY_SAMPLES));
  for (let i = head; i < tailFrom; i += step) hash = Math.imul(hash ^ (bytes[i] ?? 0), 0x01000193);
  for (let i = tailFrom; i < length; i += 1) hash = Math.imul(hash ^ (bytes[i] ?? 0), 0x01000193);
  return hash >>> 0;
}

function sameBytes(kept: Buffer, bytes: Uint8Array): boolean {
  return kept.length === bytes.length && kept.equals(bytes);
}

export function createPrefetchCache(options: PrefetchCacheOptions): PrefetchCache {
  const { maxBytes, ttlMs, now } = options;
  const minBytes = options.minBytes ?? DEFAULT_MIN_BYTES;
  // Insertion order is the order entries were made, so the oldest stand first.
  const entries = new Map<number, Entry>();
  let keptBytes = 0;
  let seenEntries = 0;

  const drop = (key: number, entry: Entry): void => {
    entries.delete(key);
    if (entry.bytes) keptBytes -= entry.bytes.length;
    else if (!entry.refused) seenEntries -= 1;
  };

  /** Drops what is past its time, then the oldest while more than the bounds are held. */
  const trim = (at: number): void => {
    for (const [key, entry] of entries) {
      if (at - entry.at < ttlMs && keptBytes <= maxBytes && seenEntries <= MAX_SEEN && entries.size <= 2 * MAX_SEEN) break;
      drop(key, entry);
    }
  };

  const put = (key: number, entry: Entry): void => {
    const old = entries.get(key);
    if (old) drop(key, old);
    entries.set(key, entry);
    if (entry.bytes) keptBytes += entry.bytes.length;
    else if (!entry.refused) seenEntries += 1;
    trim(entry.at);
  };

  return {
    recall(bytes) {
      if (bytes.length < minBytes) return NEW;
      const at = now();
      trim(at);
      const key = keyOf(bytes);
      const entry = entries.get(key);
      if (!entry) {
        put(key, { at });
        return NEW;
      }
      if (entry.refused) return NEW;
      if (!entry.bytes) return SEEN;
      if (sameBytes(entry.bytes, bytes)) return { kind: 'value', value: entry.value };
      // Another prefetch with the same key: it takes the place, as one seen once.
      put(key, { at });
      return NEW;
    },
    keep(bytes, value) {
      if (bytes.length < minBytes || bytes.length > maxBytes) return;
      put(keyOf(bytes), { at: now(), bytes: Buffer.from(bytes), value });
    },
    refuse(bytes) {
      put(keyOf(bytes), { at: now(), refused: true });
    },
    size() {
      return { bytes: keptBytes, entries: entries.size };
    },
  };
}
