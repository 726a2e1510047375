import { describe, expect, it } from '@jest/globals';
import { conceptTexts, firstConceptText, readConcept, someStatusCode } from '../../../src/fhir/json.js';

/** Every code `someStatusCode` offers its test, in order. */
function statusCodes(value: unknown): string[] {
  const codes: string[] = [];
  someStatusCode(value, (code) => {
    codes.push(code);
    return false;
  });
  return codes;
}

/** CodeableConcepts as clients send them, well and badly formed. */
const CONCEPTS: unknown[] = [
  undefined,
  null,
  'active',
  '  resolved ',
  '   ',
  42,
  [],
  {},
  { text: 'Cervical stenosis' },
  { text: '  ', coding: [{ display: 'Spinal stenosis, cervical region', code: 'M48.02' }] },
  { text: 'Neck pain', coding: [{ display: 'Cervicalgia' }] },
  { coding: [{ code: ' active ' }, { code: 'recurrence' }] },
  { coding: [{ code: '' }, { code: '   ' }, { code: 'inactive', display: 'Inactive' }] },
  { coding: [null, 'active', 7, { code: 7 }, { code: 'remission' }] },
  { coding: { code: 'active' } },
  { coding: [{ system: 'http://snomed.info/sct' }, { display: '' }, { display: 'Myelopathy' }] },
  { coding: 'active', text: 42 },
  { coding: [{ code: 'Active' }], text: 'active' },
];

describe('firstConceptText', () => {
  it.each(CONCEPTS.map((concept) => [JSON.stringify(concept) ?? 'undefined', concept]))('reads %s as the first of conceptTexts', (_name, concept) => {
    expect(firstConceptText(concept)).toBe(conceptTexts(readConcept(concept))[0]);
  });

  it('prefers the text, then the first display there is', () => {
    expect(firstConceptText({ text: 'Neck pain', coding: [{ display: 'Cervicalgia' }] })).toBe('Neck pain');
    expect(firstConceptText({ coding: [{ code: 'x' }, { display: 'Myelopathy' }, { display: 'Later' }] })).toBe('Myelopathy');
    expect(firstConceptText({ coding: [{ code: 'x' }] })).toBeUndefined();
  });
});

describe('someStatusCode', () => {
  it('read the codes exactly as sent, trimmed, from a coding list or a plain string, never from a text', () => {
    expect(statusCodes({ coding: [{ code: ' active ' }, { code: 'recurrence' }] })).toEqual(['active', 'recurrence']);
    expect(statusCodes('  resolved ')).toEqual(['resolved']);
    expect(statusCodes({ text: 'active' })).toEqual([]);
    expect(statusCodes({ coding: [{ code: 'Active' }] })).toEqual(['Active']);
    expect(statusCodes({ coding: [null, { code: 7 }, { code: '' }, { code: 'remission' }] })).toEqual(['remission']);
  });

  it.each(CONCEPTS.map((concept) => [JSON.stringify(concept) ?? 'undefined', concept]))('reads %s as the codings readConcept reads', (_name, concept) => {
    const codes = readConcept(concept)?.codings.map((c) => c.code?.trim()).filter((c) => c !== undefined) ?? [];
    expect(statusCodes(concept)).toEqual(codes);
    for (const wanted of ['active', 'recurrence', 'inactive', 'remission', 'resolved', 'Active', 'M48.02']) {
      expect(someStatusCode(concept, (code) => code === wanted)).toBe(codes.includes(wanted));
    }
  });

  it('stops at the first code the test accepts', () => {
    const seen: string[] = [];
    expect(
      someStatusCode({ coding: [{ code: 'a' }, { code: 'b' }, { code: 'c' }] }, (code) => {
        seen.push(code);
        return code === 'b';
      }),
    ).toBe(true);
    expect(seen).toEqual(['a', 'b']);
  });
});
