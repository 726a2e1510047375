import { z } from 'zod';
import type { FeedbackItem } from '../cds/feedback-schema.js';
import type { AnalyticsReport, ReportRange } from './report.js';
import {
  SUPPRESSION_REASONS,
  type CardRecorder,
  type DecisionHistory,
  type DecisionKey,
  type HistoryWindow,
  type IssuedCard,
  type PastShowing,
} from './types.js';

/** What `recordFeedback` did with a batch: new items stored, items already stored before. */
export interface FeedbackWriteResult {
  readonly stored: number;
  readonly duplicates: number;
}

/**
 * Durable store of issued cards and of the feedback EHRs send about them. Implemented on SQLite
 * (one host) and PostgreSQL (several instances); both give identical reports.
 *
 * Writes are idempotent: an issued card is keyed by its uuid, and feedback by
 * (card uuid, outcome, outcomeTimestamp), so EHR retries and repeated reports are kept once.
 * Feedback for a card uuid never recorded as issued is kept and marked `known = false`.
 *
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */
export interface AnalyticsStore extends CardRecorder, DecisionHistory {
  /** Stores validated feedback items for one service; resolves once they are durable. */
  recordFeedback(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<FeedbackWriteResult>;
  /** The per-card report over an inclusive range of UTC days (validate it with `parseReportRange`). */
  report(range: ReportRange): Promise<AnalyticsReport>;
  /**
   * Claims a token id (a hash of the caller's `iss` and `jti`) until `forgetAfter`: true the first
   * time, false while an earlier claim is still in force (a replay, on any instance sharing the store).
   */
  claimToken(tokenKey: string, forgetAfter: Date, now: Date): Promise<boolean>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Releases the database; later calls reject. */
  close(): Promise<void>;
}

/**
 * The checks an issued card must pass before it is stored. `patientHash` must look like the
 * hex HMAC-SHA256 it is documented to be, so a raw patient id can never reach the database.
 */
const HexHmac = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex HMAC-SHA256');

/** What every card record carries, issued or held back. */
const CardRecordFields = z.object({
  cardUuid: z.string().min(1).max(256),
  cardId: z.string().min(1).max(256),
  knowledgeVersion: z.string().min(1).max(256),
  serviceId: z.string().min(1).max(256),
  hook: z.string().min(1).max(256),
  hookInstance: z.string().min(1).max(256),
  indicator: z.enum(['info', 'warning', 'critical']),
  patientHash: HexHmac,
});

export const StorableIssuedCard = CardRecordFields.extend({
  issuedAt: z.iso.datetime({ offset: true }),
  orderHash: HexHmac.optional(),
});
export type StorableIssuedCard = z.infer<typeof StorableIssuedCard>;

/** An issued card as stored: instants normalised to UTC with millisecond precision. */
export interface IssuedCardRow {
  readonly cardUuid: string;
  readonly cardId: string;
  readonly knowledgeVersion: string;
  readonly serviceId: string;
  readonly hook: string;
  readonly hookInstance: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly issuedAt: string;
  readonly issuedDay: string;
  readonly patientHash: string;
  readonly orderHash: string | null;
}

/** The checks a suppressed card must pass before it is stored (keys are hashes, never raw ids). */
/** `cardUuid` is the uuid the card would have had: a retried call is recorded once. */
export const StorableSuppressedCard = CardRecordFields.extend({
  reason: z.enum(SUPPRESSION_REASONS),
  suppressedAt: z.iso.datetime({ offset: true }),
  orderHash: HexHmac,
});

/** One card decided but not returned, because its decision was already shown or answered. */
export type SuppressedCard = z.infer<typeof StorableSuppressedCard>;

/** A suppressed card as stored. */
export interface SuppressedCardRow extends SuppressedCard {
  readonly suppressedDay: string;
}

/** A feedback item as stored. The free-text comment itself is not kept, only whether there was one. */
export interface FeedbackRow {
  readonly cardUuid: string;
  readonly serviceId: string;
  readonly outcome: 'accepted' | 'overridden';
  readonly outcomeTimestamp: string;
  readonly outcomeDay: string;
  /** JSON array of the distinct accepted suggestion ids. */
  readonly acceptedSuggestionIds: string;
  readonly suggestionsTaken: number;
  readonly reasonSystem: string | null;
  readonly reasonCode: string | null;
  readonly reasonDisplay: string | null;
  readonly hasComment: boolean;
  readonly receivedAt: string;
}

/** Thrown when an issued card fails `StorableIssuedCard`; retrying cannot help. */
export class UnstorableCardError extends Error {
  override readonly name = 'UnstorableCardError';
}

/*
 * Fast checks for the records the service builds itself (instants from `toISOString`). Each accepts
 * only what the zod schema accepts too; anything else goes through the schema, which decides.
 */
const HEX_HMAC = /^[0-9a-f]{64}$/;
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INDICATORS: ReadonlySet<unknown> = new Set(['info', 'warning', 'critical']);
const REASONS: ReadonlySet<unknown> = new Set(SUPPRESSION_REASONS);

function isKey(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= 256;
}

/**
 * The last instant `isUtcInstant` accepted. The records of a call share one instant and are
 * checked twice (by the recorder, then by the store): the date round trip is paid once.
 */
let lastUtcInstant = '';

function isUtcInstant(value: unknown): boolean {
  if (typeof value !== 'string' || !UTC_INSTANT.test(value)) return false;
  if (value === lastUtcInstant) return true;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== value) return false;
  lastUtcInstant = value;
  return true;
}

function isHexHmac(value: unknown): boolean {
  return typeof value === 'string' && HEX_HMAC.test(value);
}

function hasStorableKeys(card: SuppressedCard | IssuedCard): boolean {
  return (
    isKey(card.cardUuid) &&
    isKey(card.cardId) &&
    isKey(card.knowledgeVersion) &&
    isKey(card.serviceId) &&
    isKey(card.hook) &&
    isKey(card.hookInstance) &&
    INDICATORS.has(card.indicator) &&
    isHexHmac(card.patientHash)
  );
}

function fastIssued(card: IssuedCard): boolean {
  return hasStorableKeys(card) && isUtcInstant(card.issuedAt) && (card.orderHash === undefined || isHexHmac(card.orderHash));
}

function fastSuppressed(card: SuppressedCard): boolean {
  return hasStorableKeys(card) && REASONS.has(card.reason) && isUtcInstant(card.suppressedAt) && isHexHmac(card.orderHash);
}

/** Whether `card` passes `StorableIssuedCard`, without the schema for the records the service builds. */
export function isStorableIssuedCard(card: IssuedCard): boolean {
  return fastIssued(card) || StorableIssuedCard.safeParse(card).success;
}

/** Whether `card` passes `StorableSuppressedCard`, without the schema for the records the service builds. */
export function isStorableSuppressedCard(card: SuppressedCard): boolean {
  return fastSuppressed(card) || StorableSuppressedCard.safeParse(card).success;
}

/** The fields issued and suppressed rows share, copied one by one so no other key reaches a row. */
type KeyFields = Pick<IssuedCardRow, 'cardUuid' | 'cardId' | 'knowledgeVersion' | 'serviceId' | 'hook' | 'hookInstance' | 'indicator'>;

/*
 * Rows are built as `Object.assign(keyFieldsOf(data), { ... })`, not `{ ...keyFieldsOf(data), ... }`:
 * on Node 20 an object spread followed by more properties takes a slow path (microseconds per row).
 */
function keyFieldsOf(data: KeyFields): KeyFields {
  return {
    cardUuid: data.cardUuid,
    cardId: data.cardId,
    knowledgeVersion: data.knowledgeVersion,
    serviceId: data.serviceId,
    hook: data.hook,
    hookInstance: data.hookInstance,
    indicator: data.indicator,
  };
}

/** An instant as stored: UTC, millisecond precision (what `toISOString` gives). */
function normalisedInstant(value: string): string {
  return new Date(value).toISOString();
}

/**
 * Validates and normalises issued cards; throws `UnstorableCardError` naming the first bad one by
 * index. A card that passes the fast check already carries a normalised instant.
 */
export function toIssuedCardRows(cards: readonly IssuedCard[]): IssuedCardRow[] {
  return cards.map((card, index) => {
    const fast = fastIssued(card);
    const data = fast ? card : storable(StorableIssuedCard, card, `issued card #${index}`);
    const issuedAt = fast ? data.issuedAt : normalisedInstant(data.issuedAt);
    return Object.assign(keyFieldsOf(data), {
      issuedAt,
      issuedDay: issuedAt.slice(0, 10),
      patientHash: data.patientHash,
      orderHash: data.orderHash ?? null,
    });
  });
}

/** Parses one record with its storage schema; throws `UnstorableCardError` naming the failing fields (never values). */
function storable<T>(schema: z.ZodType<T>, record: unknown, what: string): T {
  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new UnstorableCardError(`${what} is not storable (${fields})`);
  }
  return parsed.data;
}

/** Validates and normalises suppressed cards; throws `UnstorableCardError` naming the first bad one by index. */
export function toSuppressedCardRows(cards: readonly SuppressedCard[]): SuppressedCardRow[] {
  return cards.map((card, index) => {
    const fast = fastSuppressed(card);
    const data = fast ? card : storable(StorableSuppressedCard, card, `suppressed card #${index}`);
    const suppressedAt = fast ? data.suppressedAt : normalisedInstant(data.suppressedAt);
    return Object.assign(keyFieldsOf(data), {
      reason: data.reason,
      suppressedAt,
      suppressedDay: suppressedAt.slice(0, 10),
      patientHash: data.patientHash,
      orderHash: data.orderHash,
    });
  });
}

/** One row of the history lookup, as both dialects return it (a showing, with one answer or none). */
export const HistoryRow = z.object({
  card_uuid: z.string(),
  card_id: z.string(),
  order_hash: z.string().nullable(),
  hook: z.string(),
  indicator: z.enum(['info', 'warning', 'critical']),
  shown_at: z.union([z.string(), z.date()]),
  outcome: z.enum(['accepted', 'overridden']).nullable(),
  answered_at: z.union([z.string(), z.date()]).nullable(),
});

/** Groups history rows by card uuid into past showings. */
export function toPastShowings(rows: readonly unknown[]): PastShowing[] {
  const byUuid = new Map<string, { showing: PastShowing; answers: Array<PastShowing['answers'][number]> }>();
  for (const raw of rows) {
    const row = HistoryRow.parse(raw);
    let entry = byUuid.get(row.card_uuid);
    if (!entry) {
      const answers: Array<PastShowing['answers'][number]> = [];
      entry = {
        answers,
        showing: {
          cardUuid: row.card_uuid,
          cardId: row.card_id,
          orderHash: row.order_hash ?? undefined,
          hook: row.hook,
          indicator: row.indicator,
          shownAt: new Date(row.shown_at).getTime(),
          answers,
        },
      };
      byUuid.set(row.card_uuid, entry);
    }
    if (row.outcome !== null && row.answered_at !== null) entry.answers.push({ outcome: row.outcome, at: new Date(row.answered_at).getTime() });
  }
  return [...byUuid.values()].map((entry) => entry.showing);
}

/** The named parameters of {@link decisionHistoryQuery}. */
export type DecisionHistoryParameter = 'patient' | 'order' | 'card' | 'uuid' | 'lookback' | 'since' | 'now' | 'showings';

/** The values of {@link decisionShownQuery}'s parameters for one decision in hand (`lookback` as stored). */
export function decisionShownValues(patientHash: string, key: DecisionKey, lookback: string): Record<'patient' | 'order' | 'card' | 'lookback', string> {
  return { patient: patientHash, order: key.orderHash, card: key.cardId, lookback };
}

/** The values of {@link decisionHistoryQuery}'s parameters for one decision in hand. */
export function decisionHistoryValues(patientHash: string, key: DecisionKey, window: HistoryWindow): Record<DecisionHistoryParameter, string | number> {
  return {
    patient: patientHash,
    order: key.orderHash,
    card: key.cardId,
    uuid: key.cardUuid,
    lookback: window.lookbackFrom.toISOString(),
    since: window.since.toISOString(),
    now: window.now.toISOString(),
    showings: key.showings ? 1 : 0,
  };
}

/** What the history lookup's SQL spells differently in SQLite and PostgreSQL. */
export interface HistoryDialect {
  /** How a named parameter is written. */
  readonly parameter: (name: DecisionHistoryParameter) => string;
  /** A NULL of the instant type, so the union's columns agree. */
  readonly nullTime: string;
  /** Pins the index a subquery reads (SQLite's planner would otherwise scan the time index for one hook), or nothing. */
  readonly indexedBy: (index: string) => string;
}

/** The issued cards of the decision in hand (`i` is `issued_cards`). */
function sameDecision(p: HistoryDialect['parameter']): string {
  return `i.patient_hash = ${p('patient')} AND i.order_hash = ${p('order')} AND i.card_id = ${p('card')}`;
}

/**
 * Whether the decision was shown at or after the lookback: one row or none, read from the
 * covering index `issued_cards_decision_time`. Most decisions are new, and for those this one
 * probe is the whole lookup: when it finds nothing, {@link decisionHistoryQuery} finds nothing
 * either, since every row it returns is an issued card of this decision shown at or after the
 * lookback. The retry and latest-shown branches read this decision's issued cards from
 * `lookback` or from `since`, which is never earlier (`since` is one lockout back, `lookback`
 * two). The answer branches match feedback by its own decision keys, but join it to its issued
 * card and ask that card's `issued_at` to be at or after `lookback`; and feedback keys are
 * copies of that card's (taken when the feedback is stored, or when its card arrives; an issued
 * card is never updated), so the card is of this decision.
 */
export function decisionShownQuery(dialect: HistoryDialect): string {
  const p = dialect.parameter;
  // The order makes PostgreSQL read the same index (a bound on time, not a walk through the decision's showings).
  return `SELECT 1 FROM issued_cards i ${dialect.indexedBy('issued_cards_decision_time')}
    WHERE ${sameDecision(p)} AND i.issued_at >= ${p('lookback')} ORDER BY i.issued_at DESC LIMIT 1`;
}

/**
 * The history lookup for one decision, in rows of {@link HistoryRow}: at most five, each found
 * through an index (`issued_cards` by decision and time, `card_feedback` by decision, outcome
 * and time), so its cost does not grow with the patient's history. The two latest-showing
 * branches run only when `showings` is 1: a term on a parameter alone is tested once, before
 * the branch's index is read (SQLite codes it ahead of the loop, PostgreSQL as a one-time
 * filter), so a warning on an order hook or a critical card reads three branches, not five.
 */
export function decisionHistoryQuery(dialect: HistoryDialect): string {
  const p = dialect.parameter;
  const nullTime = dialect.nullTime;
  const decision = sameDecision(p);
  const showing = 'i.card_uuid, i.card_id, i.order_hash, i.hook, i.indicator, i.issued_at AS shown_at';
  const inLockout = (column: string): string => `${column} >= ${p('since')} AND ${column} <= ${p('now')}`;
  const latestShown = (index: string, hook: string): string => `
    SELECT * FROM (SELECT ${showing}, NULL AS outcome, ${nullTime} AS answered_at FROM issued_cards i ${dialect.indexedBy(index)}
      WHERE ${p('showings')} = 1 AND ${decision}${hook} AND ${inLockout('i.issued_at')} ORDER BY i.issued_at DESC LIMIT 1) AS s`;
  const latestAnswer = (outcome: string): string => `
    SELECT * FROM (SELECT ${showing}, f.outcome, f.received_at AS answered_at
      FROM card_feedback f JOIN issued_cards i ON i.card_uuid = f.card_uuid
      WHERE f.patient_hash = ${p('patient')} AND f.order_hash = ${p('order')} AND f.card_id = ${p('card')}
        AND f.outcome = '${outcome}' AND ${inLockout('f.received_at')} AND i.issued_at >= ${p('lookback')}
      ORDER BY f.received_at DESC LIMIT 1) AS a`;
  return `
    SELECT * FROM (SELECT ${showing}, NULL AS outcome, ${nullTime} AS answered_at FROM issued_cards i
      WHERE i.card_uuid = ${p('uuid')} AND ${decision} AND i.issued_at >= ${p('lookback')}) AS r
    UNION ALL ${latestShown('issued_cards_decision_time', '')}
    UNION ALL ${latestShown('issued_cards_decision_hook_time', " AND i.hook = 'patient-view'")}
    UNION ALL ${latestAnswer('overridden')}
    UNION ALL ${latestAnswer('accepted')}`;
}

/** Normalises one validated feedback item for storage. */
export function toFeedbackRow(serviceId: string, item: FeedbackItem, receivedAt: Date): FeedbackRow {
  const outcomeTimestamp = new Date(item.outcomeTimestamp).toISOString();
  const suggestionIds = [...new Set((item.acceptedSuggestions ?? []).map((suggestion) => suggestion.id))];
  const reason = item.overrideReason?.reason;
  const comment = item.overrideReason?.userComment;
  return {
    cardUuid: item.card,
    serviceId,
    outcome: item.outcome,
    outcomeTimestamp,
    outcomeDay: outcomeTimestamp.slice(0, 10),
    acceptedSuggestionIds: JSON.stringify(suggestionIds),
    suggestionsTaken: suggestionIds.length,
    reasonSystem: reason?.system ?? null,
    reasonCode: reason?.code ?? null,
    reasonDisplay: reason?.display ?? null,
    hasComment: comment !== undefined && comment.trim().length > 0,
    receivedAt: receivedAt.toISOString(),
  };
}
