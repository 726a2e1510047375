import { describe, expect, it } from '@jest/globals';
import { createPrefetchCache, keyOf, type PrefetchCache } from '../../../src/http/prefetch-cache.js';

const bytesOf = (text: string): Buffer => Buffer.from(text, 'utf8');

/** A prefetch-like text of about `size` bytes whose content depends on `seed`. */
function prefetchText(seed: string, size = 4096): string {
  const entry = JSON.stringify({ resource: { resourceType: 'Condition', subject: { reference: `Patient/${seed}` }, code: { text: 'Spinal stenosis' } } });
  const count = Math.ceil(size / (entry.length + 1));
  return `{"conditions":{"resourceType":"Bundle","entry":[${Array.from({ length: count }, () => entry).join(',')}]}}`;
}

function cacheAt(clock: { ms: number }, options: { maxBytes?: number; ttlMs?: number; minBytes?: number } = {}): PrefetchCache {
  return createPrefetchCache({ maxBytes: options.maxBytes ?? 1_000_000, ttlMs: options.ttlMs ?? 60_000, now: () => clock.ms, ...(options.minBytes === undefined ? {} : { minBytes: options.minBytes }) });
}

describe('createPrefetchCache', () => {
  it('is new the first time, seen the second, and gives the kept value for the same bytes after', () => {
    const cache = cacheAt({ ms: 0 });
    const text = prefetchText('p1');
    expect(cache.recall(bytesOf(text)).kind).toBe('new');
    expect(cache.recall(bytesOf(text)).kind).toBe('seen');
    const value = JSON.parse(text) as unknown;
    cache.keep(bytesOf(text), value);
    const recalled = cache.recall(bytesOf(text));
    expect(recalled.kind).toBe('value');
    expect(recalled.kind === 'value' ? recalled.value : undefined).toBe(value);
  });

  it('gives a kept value only for byte-identical text: a text of another key is new, and one of the same key takes its place', () => {
    const cache = cacheAt({ ms: 0 });
    const text = prefetchText('p1');
    const flip = (at: number): string => `${text.slice(0, at)}${text[at] === 'a' ? 'b' : 'a'}${text.slice(at + 1)}`;
    cache.keep(bytesOf(text), 'kept');
    // The first byte is read for the key; byte 513 falls between the samples the key reads.
    const otherKey = flip(0);
    const sameKey = flip(513);
    expect(keyOf(bytesOf(otherKey))).not.toBe(keyOf(bytesOf(text)));
    expect(keyOf(bytesOf(sameKey))).toBe(keyOf(bytesOf(text)));
    expect(cache.recall(bytesOf(otherKey)).kind).toBe('new');
    expect(cache.recall(bytesOf(text)).kind).toBe('value');
    expect(cache.recall(bytesOf(sameKey)).kind).toBe('new');
    expect(cache.recall(bytesOf(text)).kind).toBe('seen');
  });

  it('keeps its own copy of the bytes: the request buffer may be reused', () => {
    const cache = cacheAt({ ms: 0 });
    const text = prefetchText('p1');
    const buffer = bytesOf(text);
    cache.keep(buffer, 'kept');
    buffer.fill(0x20);
    expect(cache.recall(bytesOf(text))).toEqual({ kind: 'value', value: 'kept' });
  });

  it('drops a value once its time is up, and notes the bytes as new again', () => {
    const clock = { ms: 1_000 };
    const cache = cacheAt(clock, { ttlMs: 5_000 });
    const text = prefetchText('p1');
    cache.keep(bytesOf(text), 'kept');
    clock.ms += 4_999;
    expect(cache.recall(bytesOf(text)).kind).toBe('value');
    clock.ms += 1;
    expect(cache.recall(bytesOf(text)).kind).toBe('new');
    expect(cache.size().bytes).toBe(0);
  });

  it('drops the oldest values first when the bytes kept pass the bound, and never keeps one larger than the bound', () => {
    const text = (n: number): string => prefetchText(`patient-${n}`, 3000);
    const one = bytesOf(text(1)).length;
    const cache = cacheAt({ ms: 0 }, { maxBytes: 3 * one });
    expect([1, 2, 3, 4, 5].map((n) => cache.keep(bytesOf(text(n)), n))).toEqual([true, true, true, true, true]);
    expect(cache.size().bytes).toBeLessThanOrEqual(3 * one);
    expect([1, 2, 3, 4, 5].map((n) => cache.recall(bytesOf(text(n))).kind)).toEqual(['new', 'new', 'value', 'value', 'value']);
    const big = cacheAt({ ms: 0 }, { maxBytes: one - 1 });
    expect(big.keep(bytesOf(text(1)), 1)).toBe(false);
    expect(big.size()).toMatchObject({ bytes: 0, values: 0 });
    // Not kept, so not tried apart again: the next calls parse it whole.
    expect(big.recall(bytesOf(text(1))).kind).toBe('new');
  });

  it('bounds what it notes of prefetches seen once, without pushing out the values kept', () => {
    const cache = cacheAt({ ms: 0 });
    const hot = Array.from({ length: 10 }, (_, n) => bytesOf(prefetchText(`hot-${n}`, 2100)));
    for (const bytes of hot) cache.keep(bytes, 'hot');
    for (let n = 0; n < 9_000; n += 1) cache.recall(bytesOf(prefetchText(`p${n}`, 2100)));
    expect(cache.size().notes).toBeLessThanOrEqual(4096);
    expect(cache.size().values).toBe(10);
    expect(hot.map((bytes) => cache.recall(bytes).kind)).toEqual(hot.map(() => 'value'));
  });

  it('drops values past their time at any call, a small prefetch or none, and at a sweep', () => {
    const clock = { ms: 0 };
    const cache = cacheAt(clock, { ttlMs: 1_000, minBytes: 2048 });
    cache.keep(bytesOf(prefetchText('p1')), 'kept');
    clock.ms = 2_000;
    cache.recall(bytesOf('{}'));
    expect(cache.size()).toEqual({ bytes: 0, values: 0, notes: 0 });
    cache.keep(bytesOf(prefetchText('p2')), 'kept');
    cache.recall(bytesOf(prefetchText('p3')));
    clock.ms = 3_500;
    cache.sweep();
    expect(cache.size()).toEqual({ bytes: 0, values: 0, notes: 0 });
  });

  it('leaves small prefetches alone', () => {
    const cache = cacheAt({ ms: 0 }, { minBytes: 2048 });
    const small = bytesOf(prefetchText('p1', 100));
    expect(cache.keep(small, 'kept')).toBe(false);
    expect(cache.recall(small).kind).toBe('new');
    expect(cache.recall(small).kind).toBe('new');
    expect(cache.size().values).toBe(0);
  });

  it('once refused, treats those bytes as new (they are parsed whole) until their time is up', () => {
    const clock = { ms: 0 };
    const cache = cacheAt(clock, { ttlMs: 1_000 });
    const bytes = bytesOf(prefetchText('p1'));
    cache.recall(bytes);
    cache.refuse(bytes);
    expect(cache.recall(bytes).kind).toBe('new');
    expect(cache.recall(bytes).kind).toBe('new');
    clock.ms += 1_000;
    expect(cache.recall(bytes).kind).toBe('new');
    expect(cache.recall(bytes).kind).toBe('seen');
  });
});

describe('keyOf', () => {
  it('differs for texts that differ in length, in their first or last bytes', () => {
    const base = prefetchText('p1');
    const keys = new Set([base, `${base} `, `x${base.slice(1)}`, `${base.slice(0, -1)}x`].map((text) => keyOf(bytesOf(text))));
    expect(keys.size).toBe(4);
  });

  it('spreads the prefetches of many patients over distinct keys', () => {
    const keys = new Set<number>();
    for (let n = 0; n < 2_000; n += 1) keys.add(keyOf(bytesOf(prefetchText(`pt-${n}`, 2500))));
    expect(keys.size).toBeGreaterThan(1_990);
  });
});
