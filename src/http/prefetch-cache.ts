/**
 * Prefetches already parsed, remembered by their bytes as sent.
 *
 * One chart's hooks send the same prefetch again and again: patient-view when it opens,
 * order-select each time the orders picked change, order-sign when they are signed. Parsing that
 * prefetch is most of what a call costs (a 40-Condition chart is about 37 KB of JSON), so the value
 * parsed from one call is kept for the next call that sends the very same bytes.
 *
 * A value is kept only once the same bytes have come twice, so a prefetch seen once costs a note
 * of its key and nothing more; notes and values are bounded apart, so a stream of new charts
 * never pushes out the values kept. The values are shared between calls: nothing downstream may
 * change them (test/integration/protocol/prefetch-cache.test.ts freezes them and holds every
 * fixture to that). Values and notes go `ttlMs` after they were made (at the next call, or at
 * the next {@link PrefetchCache.sweep}), and the oldest values go first when the bytes kept pass
 * `maxBytes`.
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
  /**
   * Keeps the value parsed from these bytes (copied: the request's buffer is not held); false
   * when it is not kept (smaller than the minimum or larger than the bound), and the bytes are
   * then parsed whole until their note expires.
   */
  keep(bytes: Uint8Array, value: unknown): boolean;
  /** These bytes turned out not to be a JSON value of their own: do not try them apart again. */
  refuse(bytes: Uint8Array): void;
  /** Drops what is past its time (each call does; a timer calls it on an idle process too). */
  sweep(): void;
  /** Bytes of kept values, kept values, and notes of prefetches seen once or refused. */
  size(): { readonly bytes: number; readonly values: number; readonly notes: number };
}

interface Kept {
  readonly at: number;
  readonly bytes: Buffer;
  readonly value: unknown;
}

interface Note {
  readonly at: number;
  readonly refused: boolean;
}

const DEFAULT_MIN_BYTES = 2048;
/** Notes kept of prefetches seen once or refused (a key and a time each), at most. */
const MAX_NOTES = 4096;
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

/** A copy in memory of its own: a small Buffer.from would hold a whole slab of Node's shared pool. */
function ownCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}

/** Drops the oldest entries (Map order is insertion order) while `over` holds, or they are past their time. */
function dropOldest<T extends { readonly at: number }>(entries: Map<number, T>, at: number, ttlMs: number, over: () => boolean, dropped: (entry: T) => void): void {
  for (const [key, entry] of entries) {
    if (at - entry.at < ttlMs && !over()) return;
    entries.delete(key);
    dropped(entry);
  }
}

export function createPrefetchCache(options: PrefetchCacheOptions): PrefetchCache {
  const { maxBytes, ttlMs, now } = options;
  const minBytes = options.minBytes ?? DEFAULT_MIN_BYTES;
  // Values and notes apart, so prefetches seen once (every new chart) never push out the values kept.
  const kept = new Map<number, Kept>();
  const notes = new Map<number, Note>();
  let keptBytes = 0;

  const forget = (entry: Kept): void => {
    keptBytes -= entry.bytes.length;
  };
  const trim = (at: number): void => {
    dropOldest(kept, at, ttlMs, () => keptBytes > maxBytes, forget);
    dropOldest(notes, at, ttlMs, () => notes.size > MAX_NOTES, () => undefined);
  };
  const note = (key: number, at: number, refused: boolean): void => {
    notes.delete(key);
    notes.set(key, { at, refused });
    trim(at);
  };

  return {
    recall(bytes) {
      const at = now();
      trim(at);
      if (bytes.length < minBytes) return NEW;
      const key = keyOf(bytes);
      const value = kept.get(key);
      if (value) {
        if (sameBytes(value.bytes, bytes)) return { kind: 'value', value: value.value };
        // Another prefetch with the same key: the kept one gives way, and this one is noted as seen once.
        kept.delete(key);
        forget(value);
      }
      const known = notes.get(key);
      if (!known) {
        note(key, at, false);
        return NEW;
      }
      return known.refused ? NEW : SEEN;
    },
    keep(bytes, value) {
      const key = keyOf(bytes);
      if (bytes.length < minBytes || bytes.length > maxBytes) {
        note(key, now(), true);
        return false;
      }
      const at = now();
      notes.delete(key);
      const old = kept.get(key);
      if (old) {
        kept.delete(key);
        forget(old);
      }
      const copy = ownCopy(bytes);
      kept.set(key, { at, bytes: copy, value });
      keptBytes += copy.length;
      trim(at);
      return true;
    },
    refuse(bytes) {
      note(keyOf(bytes), now(), true);
    },
    sweep() {
      trim(now());
    },
    size() {
      return { bytes: keptBytes, values: kept.size, notes: notes.size };
    },
  };
}
