import { describe, expect, it } from '@jest/globals';
import { FeedbackRequest } from '../../../src/cds/feedback-schema.js';

const overrideItem = { card: 'c-1', outcome: 'overridden', outcomeTimestamp: '1985-04-12T23:20:50.52Z' };

describe('FeedbackRequest', () => {
  it('accepts the spec example shapes: accepted with suggestions, overridden with a coded reason and a comment', () => {
    const parsed = FeedbackRequest.safeParse({
      feedback: [
        { card: 'c-1', outcome: 'accepted', acceptedSuggestions: [{ id: 's-1' }], outcomeTimestamp: '2026-11-01T10:00:00Z' },
        {
          ...overrideItem,
          overrideReason: { reason: { code: 'reason-code', system: 'http://example.org/reasons', display: 'Reason' }, userComment: 'text' },
        },
      ],
    });
    expect(parsed.success).toBe(true);
  });

  it('accepts a reason with only a code (as the CDS Hooks sandbox sends it), a comment alone, or no reason', () => {
    for (const overrideReason of [{ reason: { code: 'other' } }, { userComment: 'only a comment' }, undefined]) {
      expect(FeedbackRequest.safeParse({ feedback: [{ ...overrideItem, ...(overrideReason ? { overrideReason } : {}) }] }).success).toBe(true);
    }
  });

  it('keeps unknown fields and extensions without complaint', () => {
    const parsed = FeedbackRequest.safeParse({ extension: { a: 1 }, feedback: [{ ...overrideItem, extension: { b: 2 }, other: true }] });
    expect(parsed.success).toBe(true);
  });

  it('accepts RFC 3339 timestamps with fractions and numeric offsets', () => {
    for (const outcomeTimestamp of ['2026-11-01T10:00:00Z', '2026-11-01T10:00:00.123456Z', '2026-11-01T10:00:00+05:30', '2026-11-01T10:00:00-08:00']) {
      expect(FeedbackRequest.safeParse({ feedback: [{ ...overrideItem, outcomeTimestamp }] }).success).toBe(true);
    }
  });

  it.each([
    ['no zone', '2026-11-01T10:00:00'],
    ['no seconds', '2026-11-01T10:00Z'],
    ['a date only', '2026-11-01'],
    ['an impossible day', '2026-02-30T10:00:00Z'],
    ['a number', 1762000000000],
  ])('rejects an outcomeTimestamp with %s', (_case, outcomeTimestamp) => {
    expect(FeedbackRequest.safeParse({ feedback: [{ ...overrideItem, outcomeTimestamp }] }).success).toBe(false);
  });

  it('requires acceptedSuggestions when the outcome is accepted, and allows an empty list', () => {
    const without = FeedbackRequest.safeParse({ feedback: [{ ...overrideItem, outcome: 'accepted' }] });
    expect(without.success).toBe(false);
    expect(without.error?.issues.map((issue) => issue.path)).toEqual([['feedback', 0, 'acceptedSuggestions']]);
    expect(FeedbackRequest.safeParse({ feedback: [{ ...overrideItem, outcome: 'accepted', acceptedSuggestions: [] }] }).success).toBe(true);
  });

  it.each([
    ['an outcome of ignored', { ...overrideItem, outcome: 'ignored' }],
    ['an empty card uuid', { ...overrideItem, card: '' }],
    ['a reason without a code', { ...overrideItem, overrideReason: { reason: { display: 'x' } } }],
    ['a suggestion without an id', { ...overrideItem, outcome: 'accepted', acceptedSuggestions: [{}] }],
    ['a numeric comment', { ...overrideItem, overrideReason: { userComment: 5 } }],
  ])('rejects %s', (_case, item) => {
    expect(FeedbackRequest.safeParse({ feedback: [item] }).success).toBe(false);
  });

  it('rejects a body without a feedback array', () => {
    expect(FeedbackRequest.safeParse({}).success).toBe(false);
    expect(FeedbackRequest.safeParse({ feedback: {} }).success).toBe(false);
    expect(FeedbackRequest.safeParse(null).success).toBe(false);
  });
});
