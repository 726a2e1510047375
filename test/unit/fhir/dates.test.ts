/** Calendar days from the injected clock and from FHIR dates (clinical policy §2 dating). */
import { describe, expect, it } from '@jest/globals';
import { today } from '../../../src/fhir/dates.js';

describe('today', () => {
  it.each([
    ['2026-11-24T12:00:00Z', '2026-11-24'],
    ['2026-11-24T23:59:59.999Z', '2026-11-24'],
    ['2024-02-29T00:00:00Z', '2024-02-29'],
    ['0999-12-31T23:59:59Z', '0999-12-31'],
    ['0001-01-01T00:00:00Z', '0001-01-01'],
  ])('reads %s as the UTC day %s', (instant, day) => {
    expect(today(new Date(instant))).toBe(day);
  });

  it('writes a year outside 0–9999 as toISOString does, and refuses an invalid date', () => {
    const far = new Date(Date.UTC(10000, 0, 1));
    expect(today(far)).toBe(far.toISOString().slice(0, 10));
    expect(today(far)).toBe('+010000-01');
    expect(() => today(new Date(Number.NaN))).toThrow(RangeError);
  });
});
