import { describe, expect, it } from '@jest/globals';
import { parseCallBody } from '../../../src/http/call-body.js';
import { createPrefetchCache, type PrefetchCache } from '../../../src/http/prefetch-cache.js';

type Outcome = { ok: true; value: unknown } | { ok: false };

function freshCache(): PrefetchCache {
  return createPrefetchCache({ maxBytes: 10_000_000, ttlMs: 60_000, now: () => 0, minBytes: 0 });
}

function strictParse(text: string): unknown {
  return JSON.parse(text);
}

function outcome(read: () => unknown): Outcome {
  try {
    return { ok: true, value: read() };
  } catch {
    return { ok: false };
  }
}

/** Each of three calls with the same bytes (new, seen, remembered) gives what parsing the whole text gives. */
function expectSameAsWhole(text: string, cache: PrefetchCache = freshCache()): void {
  const whole = outcome(() => JSON.parse(text));
  for (let call = 0; call < 3; call += 1) {
    const got = outcome(() => parseCallBody(Buffer.from(text, 'utf8'), cache, strictParse).value);
    expect({ text, call, got }).toEqual({ text, call, got: whole });
  }
}

const prefetch = {
  patient: { resourceType: 'Patient', id: 'p1' },
  conditions: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Condition', code: { text: 'C5–C6 stenosis "severe" \\ }' } } }] },
};
const context = { patientId: 'p1', draftOrders: { resourceType: 'Bundle', entry: [] } };

describe('parseCallBody', () => {
  it('gives what parsing the whole body gives, on the first call and on the calls that send the same prefetch again', () => {
    const cache = freshCache();
    const text = JSON.stringify({ hook: 'order-sign', hookInstance: 'h1', context, prefetch });
    expectSameAsWhole(text, cache);
    expect(cache.size().bytes).toBeGreaterThan(0);
  });

  it('shares the remembered prefetch between calls that differ elsewhere, and says how each was read', () => {
    const cache = freshCache();
    const body = (hookInstance: string): Buffer => Buffer.from(JSON.stringify({ hook: 'order-sign', hookInstance, context, prefetch }));
    const first = parseCallBody(body('h1'), cache, strictParse);
    const second = parseCallBody(body('h2'), cache, strictParse);
    const third = parseCallBody(body('h3'), cache, strictParse);
    expect([first.prefetch, second.prefetch, third.prefetch]).toEqual(['parsed', 'kept', 'taken']);
    const [secondValue, thirdValue] = [second.value, third.value] as Array<{ prefetch: unknown; hookInstance: string }>;
    expect(thirdValue?.hookInstance).toBe('h3');
    expect(thirdValue?.prefetch).toBe(secondValue?.prefetch);
    expect(thirdValue?.prefetch).toEqual(prefetch);
  });

  it('finds where the context and the prefetch stand, for the call ids', () => {
    const text = JSON.stringify({ hook: 'order-sign', context, prefetch });
    const { members } = parseCallBody(Buffer.from(text), freshCache(), strictParse);
    const context_ = members?.spans.get('context');
    expect(context_ && text.slice(context_.start, context_.end)).toBe(JSON.stringify(context));
    expect(members?.stopFrom).toBe(text.indexOf('{"patient"'));
  });

  it.each([
    ['pretty-printed, with spaces around the prefetch', `{\n  "hook": "order-sign",\n  "context": ${JSON.stringify(context)},\n  "prefetch" :\t ${JSON.stringify(prefetch, null, 2)}  \n}\n`],
    ['the prefetch first', JSON.stringify({ prefetch, hook: 'order-sign', context })],
    ['a duplicate prefetch, the last one null', `{"hook":"x","prefetch":${JSON.stringify(prefetch)},"prefetch":null}`],
    ['a duplicate prefetch, the first one null', `{"hook":"x","prefetch":null,"prefetch":${JSON.stringify(prefetch)}}`],
    ['two prefetches, both objects', `{"prefetch":${JSON.stringify(prefetch)},"prefetch":${JSON.stringify(prefetch)}}`],
    ['a prefetch inside the context only', JSON.stringify({ hook: 'x', context: { ...context, prefetch } })],
    ['a null prefetch', JSON.stringify({ hook: 'x', context, prefetch: null })],
    ['a prefetch that is a string', JSON.stringify({ hook: 'x', context, prefetch: 'a } string' })],
    ['a prefetch that is a number', '{"hook":"x","prefetch":12}'],
    ['a prefetch that is an array', JSON.stringify({ hook: 'x', prefetch: [prefetch, prefetch] })],
    ['an escaped member name', `{"hook":"x","pre\\u0066etch":${JSON.stringify(prefetch)}}`],
    ['an array body', `[${JSON.stringify({ prefetch })}]`],
    ['a byte-order mark', `\uFEFF${JSON.stringify({ hook: 'x', prefetch })}`],
    ['text after the object', `${JSON.stringify({ hook: 'x', prefetch })} x`],
    ['a second object after the first', `${JSON.stringify({ hook: 'x', prefetch })}{}`],
    ['an unclosed prefetch', `{"hook":"x","prefetch":${JSON.stringify(prefetch).slice(0, -1)}}`],
    ['a prefetch with one brace too many', `{"hook":"x","prefetch":${JSON.stringify(prefetch)}}}`],
    ['a prefetch followed by a comma', `{"hook":"x","prefetch":${JSON.stringify(prefetch)},}`],
    ['an envelope with a trailing comma before the prefetch', `{"hook":"x",,"prefetch":${JSON.stringify(prefetch)}}`],
    ['an envelope with an unclosed string', `{"hook":"x,"prefetch":${JSON.stringify(prefetch)}}`],
    ['a prefetch holding an unclosed string that the next brace would close', `{"hook":"x","prefetch":{"a":"b}`],
    ['an empty object', '{}'],
    ['an empty text', ''],
  ])('%s: gives what parsing the whole body gives, or refuses it as that does', (_name, text) => {
    expectSameAsWhole(text);
  });

  it('parses the whole body when no cache is given', () => {
    const text = JSON.stringify({ hook: 'x', prefetch });
    expect(parseCallBody(Buffer.from(text), undefined, strictParse).value).toEqual(JSON.parse(text));
  });

  it('agrees with parsing the whole body over generated bodies and every one-byte damage to them', () => {
    // A seeded generator, so a failure can be replayed.
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const value = (depth: number): unknown => {
      const kind = depth > 2 ? pick(['s', 'n', 'b']) : pick(['s', 'n', 'b', 'o', 'a', 'o']);
      if (kind === 's') return pick(['', 'a', '}', '"', '\\', ']', 'prefetch', 'é']);
      if (kind === 'n') return pick([0, -1.5, 2e10]);
      if (kind === 'b') return pick([true, false, null]);
      if (kind === 'a') return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, () => [pick(['a', 'prefetch', 'context', '}']), value(depth + 1)]));
    };
    const damage = ['', '}', '{', '"', ',', ' ', '\\', 'null', ']'];
    for (let round = 0; round < 150; round += 1) {
      const members: Array<[string, unknown]> = [
        ['hook', 'order-sign'],
        ['context', value(1)],
        ['prefetch', value(0)],
      ];
      if (random() < 0.3) members.push([pick(['prefetch', 'extra', 'context']), value(1)]);
      if (random() < 0.3) members.reverse();
      const text = `{${members.map(([name, v]) => `${JSON.stringify(name)}:${random() < 0.5 ? ' ' : ''}${JSON.stringify(v)}`).join(',')}}`;
      const cache = freshCache();
      expectSameAsWhole(text, cache);
      // Damage one byte near the prefetch or the end, with the same cache (its prefetch is remembered by now).
      const at = pick([text.indexOf('"prefetch"') + 11, text.length - 1, text.length - 2, Math.floor(random() * text.length)]);
      const damaged = `${text.slice(0, at)}${pick(damage)}${text.slice(at + (random() < 0.5 ? 1 : 0))}`;
      expectSameAsWhole(damaged, cache);
    }
  });
});
