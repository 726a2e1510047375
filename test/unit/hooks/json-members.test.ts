import { describe, expect, it } from '@jest/globals';
import { callIds } from '../../../src/hooks/call-ids.js';
import { closingBrace, leadingMembers, trimSpaceEnd } from '../../../src/hooks/json-members.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function read(text: string, wanted: readonly string[], stopAt: string): { spans: Record<string, string>; rest: string | undefined; plain: boolean } {
  const bytes = encode(text);
  const found = leadingMembers(bytes, wanted, stopAt);
  const spans: Record<string, string> = {};
  for (const [name, span] of found.spans) spans[name] = decode(bytes.subarray(span.start, span.end));
  return { spans, rest: found.stopFrom === undefined ? undefined : decode(bytes.subarray(found.stopFrom)), plain: found.plain };
}

describe('leadingMembers', () => {
  it('finds the values of top-level members as written, past strings holding quotes, brackets and escapes, up to the stop member', () => {
    const body = {
      hook: 'order-sign',
      note: 'a "quoted" } ] { [ \\ value, "prefetch": 1',
      context: { patientId: 'p1', nested: [1, { a: 'x\\"}' }], empty: {} },
      count: -1.5e3,
      flag: true,
      prefetch: { conditions: { entry: [{ resource: { code: { text: 'C5–C6 stenosis ✓' } } }] } },
    };
    const text = JSON.stringify(body);
    expect(read(text, ['context', 'count', 'flag'], 'prefetch')).toEqual({
      spans: { context: JSON.stringify(body.context), count: JSON.stringify(body.count), flag: 'true' },
      rest: `${JSON.stringify(body.prefetch)}}`,
      plain: true,
    });
  });

  it('reads pretty-printed text, takes the last of duplicate members before the stop, and ignores nested members of the same name', () => {
    const text = '{\n  "wrapper": { "context": "inner", "prefetch": 2 },\n  "context" : { "a" : [ 1 , 2 ] } ,\n  "context": null\n}';
    expect(read(text, ['context'], 'prefetch')).toEqual({ spans: { context: 'null' }, rest: undefined, plain: true });
  });

  it('says when the text is not a plain object: not an object, or a member name written with escapes', () => {
    expect(read('[{"context": 1}]', ['context'], 'prefetch').plain).toBe(false);
    expect(read('{"\\u0063ontext": 1, "prefetch": {}}', ['context'], 'prefetch').plain).toBe(false);
  });
});

describe('callIds from the body as sent', () => {
  const call = { hookInstance: 'hi-1', context: { patientId: 'p1' }, prefetch: { conditions: [] } };
  // Members in the order of the specification's examples: the token before the context and prefetch.
  const raw = encode(JSON.stringify({ hook: 'order-sign', hookInstance: call.hookInstance, fhirAuthorization: { access_token: 'one' }, context: call.context, prefetch: call.prefetch }));

  it('gives the same ids to the same context and prefetch whatever else the body carries', () => {
    const refreshedToken = encode(JSON.stringify({ hook: 'order-sign', hookInstance: call.hookInstance, fhirAuthorization: { access_token: 'two' }, context: call.context, prefetch: call.prefetch }));
    expect(callIds('secret', { ...call, raw })()).toBe(callIds('secret', { ...call, raw: refreshedToken })());
  });

  it('gives new ids when the context or the prefetch differ', () => {
    const otherPrefetch = encode(JSON.stringify({ ...call, prefetch: { conditions: [1] } }));
    const otherContext = encode(JSON.stringify({ ...call, context: { patientId: 'p2' } }));
    const first = callIds('secret', { ...call, raw })();
    expect(callIds('secret', { ...call, prefetch: { conditions: [1] }, raw: otherPrefetch })()).not.toBe(first);
    expect(callIds('secret', { ...call, context: { patientId: 'p2' }, raw: otherContext })()).not.toBe(first);
  });
});

describe('closingBrace and trimSpaceEnd', () => {
  it('find the closing brace behind trailing white space, and nothing when something else ends the text', () => {
    expect(closingBrace(encode('{"a": 1} \r\n\t'))).toBe(7);
    expect(closingBrace(encode('{"a": [1]}'))).toBe(9);
    expect(closingBrace(encode('{"a": 1} x'))).toBe(-1);
    expect(closingBrace(encode('[1]'))).toBe(-1);
    expect(closingBrace(encode('   '))).toBe(-1);
  });

  it('leave out the white space at the end of a span, and no further than its start', () => {
    const bytes = encode('{"p": {"x": 1}  \n }');
    expect(trimSpaceEnd(bytes, 6, closingBrace(bytes))).toBe(14);
    expect(trimSpaceEnd(encode('    '), 1, 4)).toBe(1);
  });
});
