import { describe, expect, it } from '@jest/globals';
import { addDays, buildReport, daysOf, parseReportRange, REPORT_QUERIES } from '../../../src/store/report.js';
import { describeReport } from '../../../src/store/describe-report.js';
import { formatReportTable } from '../../../src/store/report-table.js';

const TODAY = new Date('2026-11-30T23:59:59Z');

describe('parseReportRange', () => {
  it('defaults to the 30 days ending today (UTC)', () => {
    expect(parseReportRange({}, TODAY)).toEqual({ ok: true, range: { from: '2026-11-01', to: '2026-11-30' } });
    expect(parseReportRange({}, new Date('2026-03-01T00:30:00+02:00'))).toEqual({ ok: true, range: { from: '2026-01-30', to: '2026-02-28' } });
  });

  it('fills a missing end: to is today, from is 29 days before to', () => {
    expect(parseReportRange({ from: '2026-11-20' }, TODAY)).toEqual({ ok: true, range: { from: '2026-11-20', to: '2026-11-30' } });
    expect(parseReportRange({ to: '2026-03-01' }, TODAY)).toEqual({ ok: true, range: { from: '2026-01-31', to: '2026-03-01' } });
  });

  it('accepts one day and up to 366 days', () => {
    expect(parseReportRange({ from: '2026-11-05', to: '2026-11-05' }, TODAY).ok).toBe(true);
    expect(parseReportRange({ from: '2024-01-01', to: '2024-12-31' }, TODAY).ok).toBe(true);
    expect(parseReportRange({ from: '2025-01-01', to: '2026-01-01' }, TODAY).ok).toBe(true);
  });

  it.each([
    [{ from: '2026-1-01', to: '2026-11-30' }, 'from', 'from must be a calendar date YYYY-MM-DD'],
    [{ from: '2026-11-01', to: '2026-11-31' }, 'to', 'to must be a calendar date YYYY-MM-DD'],
    [{ from: ['2026-11-01', '2026-11-02'], to: '2026-11-30' }, 'from', 'from must be a calendar date YYYY-MM-DD'],
    [{ from: '2026-11-02', to: '2026-11-01' }, 'from', 'from must not be after to'],
    [{ from: '2025-01-01', to: '2026-01-02' }, 'to', 'the range may cover at most 366 days'],
  ])('rejects %j', (input, path, message) => {
    expect(parseReportRange(input, TODAY)).toEqual({ ok: false, problems: [{ path, message }] });
  });
});

describe('days', () => {
  it('steps over month, year and leap-day boundaries in UTC', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysOf({ from: '2026-10-30', to: '2026-11-02' })).toEqual(['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02']);
  });
});

describe('REPORT_QUERIES', () => {
  it('take exactly two parameters each, from then to', () => {
    for (const sql of Object.values(REPORT_QUERIES)) expect(sql.split('?')).toHaveLength(3);
  });
});

describe('buildReport', () => {
  // PostgreSQL returns COUNT and SUM as decimal strings, SQLite as numbers: both must give the same report.
  const rows = {
    issued: [
      { card_id: 'b-card', hook: 'order-sign', day: '2026-11-02', n: '3' },
      { card_id: 'a-card', hook: 'order-sign', day: '2026-11-01', n: 2 },
    ],
    outcomes: [
      { card_id: 'a-card', hook: 'order-sign', day: '2026-11-01', outcome: 'overridden', n: '3', suggestions: '0', comments: '2' },
      { card_id: 'a-card', hook: 'order-sign', day: '2026-11-02', outcome: 'accepted', n: 1, suggestions: 4, comments: 0 },
      { card_id: 'c-card', hook: 'order-sign', day: '2026-11-02', outcome: 'accepted', n: 2, suggestions: 2, comments: 0 },
    ],
    reasons: [
      { card_id: 'a-card', code: 'z', display: null, n: 1 },
      { card_id: 'a-card', code: 'y', display: 'Why', n: '1' },
      { card_id: 'a-card', code: 'y', display: 'Y', n: 1 },
      { card_id: 'a-card', code: 'x', display: null, n: 1 },
    ],
    unknown: [{ outcome: 'accepted', n: '4' }],
    suppressed: [{ card_id: 'a-card', hook: 'order-sign', reason: 'overridden', n: '2' }],
  };

  it('assembles per-card totals, rates, top reasons and a zero-filled daily series', () => {
    const report = buildReport({ from: '2026-11-01', to: '2026-11-03' }, rows);
    expect(report.unknownCardFeedback).toEqual({ total: 4, accepted: 4, overridden: 0 });
    expect(report.cards).toEqual([
      {
        cardId: 'a-card',
        issued: 2,
        accepted: 1,
        overridden: 3,
        overrideRate: 0.75,
        responseRate: 2,
        suppressed: 2,
        suppressedByReason: { overridden: 2 },
        suggestionsTaken: 4,
        comments: 2,
        overrideReasons: [
          { code: 'y', display: 'Why', count: 2 },
          { code: 'x', count: 1 },
          { code: 'z', count: 1 },
        ],
        topOverrideReasons: [
          { code: 'y', display: 'Why', count: 2 },
          { code: 'x', count: 1 },
          { code: 'z', count: 1 },
        ],
        byHook: { 'order-sign': { issued: 2, accepted: 1, overridden: 3, suppressed: 2 } },
        series: [
          { day: '2026-11-01', issued: 2, accepted: 0, overridden: 3, overrideRate: 1 },
          { day: '2026-11-02', issued: 0, accepted: 1, overridden: 0, overrideRate: 0 },
          { day: '2026-11-03', issued: 0, accepted: 0, overridden: 0, overrideRate: null },
        ],
      },
      {
        cardId: 'b-card',
        issued: 3,
        accepted: 0,
        overridden: 0,
        overrideRate: null,
        responseRate: 0,
        suppressed: 0,
        suppressedByReason: {},
        suggestionsTaken: 0,
        comments: 0,
        overrideReasons: [],
        topOverrideReasons: [],
        byHook: { 'order-sign': { issued: 3, accepted: 0, overridden: 0, suppressed: 0 } },
        series: [
          { day: '2026-11-01', issued: 0, accepted: 0, overridden: 0, overrideRate: null },
          { day: '2026-11-02', issued: 3, accepted: 0, overridden: 0, overrideRate: null },
          { day: '2026-11-03', issued: 0, accepted: 0, overridden: 0, overrideRate: null },
        ],
      },
      expect.objectContaining({ cardId: 'c-card', issued: 0, accepted: 2, overridden: 0, overrideRate: 0, suggestionsTaken: 2 }),
    ]);
  });

  it('keeps the five most frequent override reasons', () => {
    const reasons = ['f', 'e', 'd', 'c', 'b', 'a'].map((code, i) => ({ card_id: 'a-card', code, display: null, n: i + 1 }));
    const report = buildReport({ from: '2026-11-01', to: '2026-11-01' }, { ...rows, reasons });
    expect(report.cards[0]?.topOverrideReasons.map((reason) => [reason.code, reason.count])).toEqual([
      ['a', 6],
      ['b', 5],
      ['c', 4],
      ['d', 3],
      ['e', 2],
    ]);
  });

  it('refuses rows it does not understand', () => {
    expect(() => buildReport({ from: '2026-11-01', to: '2026-11-01' }, { ...rows, unknown: [{ outcome: 'ignored', n: 1 }] })).toThrow();
    expect(() => buildReport({ from: '2026-11-01', to: '2026-11-01' }, { ...rows, issued: [{ card_id: 'a', hook: 'order-sign', day: '2026-11-01', n: '-1' }] })).toThrow();
  });
});

describe('formatReportTable', () => {
  it('prints one aligned row per card and neutralises control characters sent by EHRs', () => {
    const report = buildReport(
      { from: '2026-11-01', to: '2026-11-02' },
      {
        issued: [{ card_id: 'a-card', hook: 'order-sign', day: '2026-11-01', n: 12 }],
        outcomes: [{ card_id: 'a-card', hook: 'order-sign', day: '2026-11-01', outcome: 'overridden', n: 1, suggestions: 0, comments: 1 }],
        reasons: [{ card_id: 'a-card', code: '\u001b[31mred', display: null, n: 1 }],
        unknown: [],
        suppressed: [{ card_id: 'a-card', hook: 'order-select', reason: 'info-already-shown', n: 3 }],
      },
    );
    const described = describeReport(report, new Map([['a-card', { title: 'A card', indicator: 'warning' as const, offeredReasons: new Set(['fine']) }]]));
    const text = formatReportTable(described);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Card analytics 2026-11-01 to 2026-11-02 (UTC days, inclusive)');
    expect(lines[2]).toBe(
      'Card             Indicator  Issued  Accepted  Overridden  Suppressed  Override rate  Response rate  Suggestions  Comments  Not offered  Top override reasons',
    );
    expect(lines[4]).toBe(
      'A card (a-card)  warning        12         0           1           3         100.0%           8.3%            0         1            1  ?[31mred x1 (not offered)',
    );
    expect(text).not.toContain('\u001b');
    expect(lines[6]).toBe('Feedback for card uuids never recorded as issued: 0 (accepted 0, overridden 0)');
    expect(lines).toContain('  a-card on order-select: issued 0, accepted 0, overridden 0, suppressed 3');
    expect(text).toContain('override rate = overridden ÷ answered');
  });
});
