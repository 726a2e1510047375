import { z } from 'zod';
import type { Problem } from '../errors.js';

/**
 * The card analytics report, computed the same way for every store: four aggregate queries whose
 * SQL is shared by SQLite and PostgreSQL, then assembled here. Sorting and tie-breaking happen in
 * TypeScript (code-unit order), never in the database, so collation cannot make the stores differ.
 *
 * Each event counts on its own UTC day: an issued card on the day of `issuedAt`, feedback on the
 * day of its `outcomeTimestamp`. Feedback for a card uuid the store never recorded as issued has
 * no card id; it is counted apart in `unknownCardFeedback`.
 *
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */

/** Inclusive range of UTC calendar days, `YYYY-MM-DD`. */
export interface ReportRange {
  readonly from: string;
  readonly to: string;
}

export interface OverrideReasonCount {
  readonly code: string;
  /** The display most often sent with this code, when any was sent. */
  readonly display?: string;
  readonly count: number;
}

export interface DayPoint {
  readonly day: string;
  readonly issued: number;
  readonly accepted: number;
  readonly overridden: number;
  /** overridden / (accepted + overridden) on that day; null when there was no feedback. */
  readonly overrideRate: number | null;
}

export interface HookCounts {
  readonly issued: number;
  readonly accepted: number;
  readonly overridden: number;
  readonly suppressed: number;
}

export interface CardReport {
  /** The policy row id the card was built from. */
  readonly cardId: string;
  readonly issued: number;
  readonly accepted: number;
  readonly overridden: number;
  /** Override rate: overridden ÷ answered (accepted + overridden); null when nothing was answered. */
  readonly overrideRate: number | null;
  /** Response rate: answered (accepted + overridden) ÷ issued; null when none was issued. */
  readonly responseRate: number | null;
  /** Cards decided but held back because the decision was already shown or answered (clinical-policy.md §6). */
  readonly suppressed: number;
  /** Held-back cards by reason (`overridden`, `info-already-shown`, `patient-view-already-shown`). */
  readonly suppressedByReason: Readonly<Record<string, number>>;
  /** Distinct suggestion ids reported in `acceptedSuggestions`, summed over feedback items. */
  readonly suggestionsTaken: number;
  /** Feedback items carrying a non-blank `overrideReason.userComment`. */
  readonly comments: number;
  /** Every override reason code sent, most frequent first, then by code. */
  readonly overrideReasons: readonly OverrideReasonCount[];
  /** The first five of `overrideReasons`. */
  readonly topOverrideReasons: readonly OverrideReasonCount[];
  /** The same counts split by the hook the card was issued (or held back) on. */
  readonly byHook: Readonly<Record<string, HookCounts>>;
  /** One point per day of the range, zero-filled. */
  readonly series: readonly DayPoint[];
}

export interface UnknownCardFeedback {
  readonly total: number;
  readonly accepted: number;
  readonly overridden: number;
}

export interface AnalyticsReport {
  readonly from: string;
  readonly to: string;
  /** Card ids with cards issued or feedback received in the range, sorted by card id. */
  readonly cards: readonly CardReport[];
  /** Feedback in the range for card uuids that were never recorded as issued. */
  readonly unknownCardFeedback: UnknownCardFeedback;
}

/** Longest range a report may cover, in days. */
export const MAX_REPORT_DAYS = 366;
/** Range used when none is given: the last 30 days up to today (UTC). */
export const DEFAULT_REPORT_DAYS = 30;
export const TOP_OVERRIDE_REASONS = 5;

const DAY_MS = 86_400_000;

export const ReportDay = z.iso.date();

/** UTC calendar day of an instant, `YYYY-MM-DD`. */
export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** The day `count` days after `day` (negative goes back). */
export function addDays(day: string, count: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + count * DAY_MS));
}

/** Every day of the range, in order. */
export function daysOf(range: ReportRange): string[] {
  const days: string[] = [];
  for (let day = range.from; day <= range.to; day = addDays(day, 1)) days.push(day);
  return days;
}

export type RangeResult = { ok: true; range: ReportRange } | { ok: false; problems: Problem[] };

/**
 * Reads a report range from untrusted input (a query string, command-line flags). Missing `to`
 * means today (UTC); missing `from` means 29 days before `to`. Values are never echoed in problems.
 */
export function parseReportRange(input: { from?: unknown; to?: unknown }, today: Date): RangeResult {
  const problems: Problem[] = [];
  const read = (name: 'from' | 'to'): string | undefined => {
    const value = input[name];
    if (value === undefined) return undefined;
    const parsed = ReportDay.safeParse(value);
    if (!parsed.success) {
      problems.push({ path: name, message: `${name} must be a calendar date YYYY-MM-DD` });
      return undefined;
    }
    return parsed.data;
  };
  const fromInput = read('from');
  const toInput = read('to');
  if (problems.length > 0) return { ok: false, problems };
  const to = toInput ?? utcDay(today);
  const from = fromInput ?? addDays(to, -(DEFAULT_REPORT_DAYS - 1));
  if (from > to) return { ok: false, problems: [{ path: 'from', message: 'from must not be after to' }] };
  const length = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (length > MAX_REPORT_DAYS) {
    return { ok: false, problems: [{ path: 'to', message: `the range may cover at most ${MAX_REPORT_DAYS} days` }] };
  }
  return { ok: true, range: { from, to } };
}

/**
 * The report's SQL, shared by both dialects. Each query takes exactly two parameters, in this
 * order: the first and the last day of the range, written `?` (stores rewrite them if needed).
 */
export const REPORT_QUERIES = {
  issued: `
    SELECT card_id, hook, issued_day AS day, COUNT(*) AS n
    FROM issued_cards
    WHERE issued_day >= ? AND issued_day <= ?
    GROUP BY card_id, hook, issued_day`,
  outcomes: `
    SELECT i.card_id AS card_id, i.hook AS hook, f.outcome_day AS day, f.outcome AS outcome, COUNT(*) AS n,
      SUM(f.suggestions_taken) AS suggestions,
      SUM(CASE WHEN f.has_comment THEN 1 ELSE 0 END) AS comments
    FROM card_feedback f JOIN issued_cards i ON i.card_uuid = f.card_uuid
    WHERE f.outcome_day >= ? AND f.outcome_day <= ?
    GROUP BY i.card_id, i.hook, f.outcome_day, f.outcome`,
  reasons: `
    SELECT i.card_id AS card_id, f.reason_code AS code, f.reason_display AS display, COUNT(*) AS n
    FROM card_feedback f JOIN issued_cards i ON i.card_uuid = f.card_uuid
    WHERE f.outcome_day >= ? AND f.outcome_day <= ?
      AND f.outcome = 'overridden' AND f.reason_code IS NOT NULL
    GROUP BY i.card_id, f.reason_code, f.reason_display`,
  unknown: `
    SELECT f.outcome AS outcome, COUNT(*) AS n
    FROM card_feedback f LEFT JOIN issued_cards i ON i.card_uuid = f.card_uuid
    WHERE f.outcome_day >= ? AND f.outcome_day <= ? AND i.card_uuid IS NULL
    GROUP BY f.outcome`,
  suppressed: `
    SELECT card_id, hook, reason, COUNT(*) AS n
    FROM suppressed_cards
    WHERE suppressed_day >= ? AND suppressed_day <= ?
    GROUP BY card_id, hook, reason`,
} as const;

export type ReportQueryName = keyof typeof REPORT_QUERIES;

/** Runs one report query with `[from, to]` and returns its raw rows. */
export type ReportQueryRunner = (sql: string, params: readonly [string, string]) => Promise<readonly unknown[]>;

/** COUNT and SUM come back as numbers from SQLite and as decimal strings from PostgreSQL. */
const Count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const Outcome = z.enum(['accepted', 'overridden']);

const IssuedRow = z.object({ card_id: z.string(), hook: z.string(), day: z.string(), n: Count });
const OutcomeRow = z.object({
  card_id: z.string(),
  hook: z.string(),
  day: z.string(),
  outcome: Outcome,
  n: Count,
  suggestions: Count,
  comments: Count,
});
const ReasonRow = z.object({ card_id: z.string(), code: z.string(), display: z.string().nullable(), n: Count });
const UnknownRow = z.object({ outcome: Outcome, n: Count });
const SuppressedRow = z.object({ card_id: z.string(), hook: z.string(), reason: z.string(), n: Count });

/** Runs the four report queries through a store's runner and assembles the report. */
export async function runReport(range: ReportRange, run: ReportQueryRunner): Promise<AnalyticsReport> {
  const params = [range.from, range.to] as const;
  const [issued, outcomes, reasons, unknown, suppressed] = await Promise.all([
    run(REPORT_QUERIES.issued, params),
    run(REPORT_QUERIES.outcomes, params),
    run(REPORT_QUERIES.reasons, params),
    run(REPORT_QUERIES.unknown, params),
    run(REPORT_QUERIES.suppressed, params),
  ]);
  return buildReport(range, { issued, outcomes, reasons, unknown, suppressed });
}

interface CardTotals {
  issued: Map<string, number>;
  accepted: Map<string, number>;
  overridden: Map<string, number>;
  suggestionsTaken: number;
  comments: number;
  reasons: Map<string, { count: number; displays: Map<string, number> }>;
  suppressed: Map<string, number>;
  byHook: Map<string, { issued: number; accepted: number; overridden: number; suppressed: number }>;
}

/** Assembles the report from the rows of `REPORT_QUERIES` (validated here). */
export function buildReport(
  range: ReportRange,
  rows: { [name in ReportQueryName]: readonly unknown[] },
): AnalyticsReport {
  const cards = new Map<string, CardTotals>();
  const totalsOf = (cardId: string): CardTotals => {
    let totals = cards.get(cardId);
    if (!totals) {
      totals = { issued: new Map(), accepted: new Map(), overridden: new Map(), suggestionsTaken: 0, comments: 0, reasons: new Map(), suppressed: new Map(), byHook: new Map() };
      cards.set(cardId, totals);
    }
    return totals;
  };
  const add = (map: Map<string, number>, key: string, count: number): void => {
    map.set(key, (map.get(key) ?? 0) + count);
  };
  const hookTotals = (totals: CardTotals, hook: string): { issued: number; accepted: number; overridden: number; suppressed: number } => {
    let entry = totals.byHook.get(hook);
    if (!entry) {
      entry = { issued: 0, accepted: 0, overridden: 0, suppressed: 0 };
      totals.byHook.set(hook, entry);
    }
    return entry;
  };

  for (const raw of rows.issued) {
    const row = IssuedRow.parse(raw);
    const totals = totalsOf(row.card_id);
    add(totals.issued, row.day, row.n);
    hookTotals(totals, row.hook).issued += row.n;
  }
  for (const raw of rows.outcomes) {
    const row = OutcomeRow.parse(raw);
    const totals = totalsOf(row.card_id);
    add(row.outcome === 'accepted' ? totals.accepted : totals.overridden, row.day, row.n);
    hookTotals(totals, row.hook)[row.outcome] += row.n;
    totals.suggestionsTaken += row.suggestions;
    totals.comments += row.comments;
  }
  for (const raw of rows.reasons) {
    const row = ReasonRow.parse(raw);
    const totals = totalsOf(row.card_id);
    let reason = totals.reasons.get(row.code);
    if (!reason) {
      reason = { count: 0, displays: new Map() };
      totals.reasons.set(row.code, reason);
    }
    reason.count += row.n;
    if (row.display !== null) add(reason.displays, row.display, row.n);
  }
  for (const raw of rows.suppressed) {
    const row = SuppressedRow.parse(raw);
    const totals = totalsOf(row.card_id);
    add(totals.suppressed, row.reason, row.n);
    hookTotals(totals, row.hook).suppressed += row.n;
  }
  const unknownCardFeedback = { total: 0, accepted: 0, overridden: 0 };
  for (const raw of rows.unknown) {
    const row = UnknownRow.parse(raw);
    unknownCardFeedback[row.outcome] += row.n;
    unknownCardFeedback.total += row.n;
  }

  const days = daysOf(range);
  const report: CardReport[] = [...cards.entries()]
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([cardId, totals]) => {
      const series = days.map((day): DayPoint => {
        const accepted = totals.accepted.get(day) ?? 0;
        const overridden = totals.overridden.get(day) ?? 0;
        return { day, issued: totals.issued.get(day) ?? 0, accepted, overridden, overrideRate: rate(overridden, accepted) };
      });
      const accepted = sum(totals.accepted);
      const overridden = sum(totals.overridden);
      const issued = sum(totals.issued);
      return {
        cardId,
        issued,
        accepted,
        overridden,
        overrideRate: rate(overridden, accepted),
        responseRate: issued === 0 ? null : (accepted + overridden) / issued,
        suppressed: sum(totals.suppressed),
        suppressedByReason: Object.fromEntries([...totals.suppressed.entries()].sort(([a], [b]) => compareCodeUnits(a, b))),
        suggestionsTaken: totals.suggestionsTaken,
        comments: totals.comments,
        byHook: Object.fromEntries([...totals.byHook.entries()].sort(([a], [b]) => compareCodeUnits(a, b))),
        overrideReasons: allReasons(totals.reasons),
        topOverrideReasons: allReasons(totals.reasons).slice(0, TOP_OVERRIDE_REASONS),
        series,
      };
    });
  return { from: range.from, to: range.to, cards: report, unknownCardFeedback };
}

function allReasons(reasons: CardTotals['reasons']): OverrideReasonCount[] {
  return [...reasons.entries()]
    .sort(([codeA, a], [codeB, b]) => b.count - a.count || compareCodeUnits(codeA, codeB))
    .map(([code, { count, displays }]) => {
      const display = mostFrequent(displays);
      return display === undefined ? { code, count } : { code, display, count };
    });
}

function mostFrequent(counts: Map<string, number>): string | undefined {
  let best: [string, number] | undefined;
  for (const entry of counts) {
    if (!best || entry[1] > best[1] || (entry[1] === best[1] && compareCodeUnits(entry[0], best[0]) < 0)) best = entry;
  }
  return best?.[0];
}

function rate(overridden: number, accepted: number): number | null {
  const decided = overridden + accepted;
  return decided === 0 ? null : overridden / decided;
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
