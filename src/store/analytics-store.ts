import { z } from 'zod';
import type { FeedbackItem } from '../cds/feedback-schema.js';
import type { AnalyticsReport, ReportRange } from './report.js';
import type { CardRecorder, IssuedCard } from './types.js';

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
export interface AnalyticsStore extends CardRecorder {
  /** Stores validated feedback items for one service; resolves once they are durable. */
  recordFeedback(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<FeedbackWriteResult>;
  /** The per-card report over an inclusive range of UTC days (validate it with `parseReportRange`). */
  report(range: ReportRange): Promise<AnalyticsReport>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Releases the database; later calls reject. */
  close(): Promise<void>;
}

/**
 * The checks an issued card must pass before it is stored. `patientHash` must look like the
 * hex HMAC-SHA256 it is documented to be, so a raw patient id can never reach the database.
 */
export const StorableIssuedCard = z.object({
  cardUuid: z.string().min(1).max(256),
  cardId: z.string().min(1).max(256),
  knowledgeVersion: z.string().min(1).max(256),
  serviceId: z.string().min(1).max(256),
  hook: z.string().min(1).max(256),
  hookInstance: z.string().min(1).max(256),
  indicator: z.enum(['info', 'warning', 'critical']),
  issuedAt: z.iso.datetime({ offset: true }),
  patientHash: z.string().regex(/^[0-9a-f]{64}$/, 'patientHash must be a hex HMAC-SHA256'),
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

/** Validates and normalises issued cards; throws `UnstorableCardError` naming the first bad one by index. */
export function toIssuedCardRows(cards: readonly IssuedCard[]): IssuedCardRow[] {
  return cards.map((card, index) => {
    const parsed = StorableIssuedCard.safeParse(card);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
      throw new UnstorableCardError(`issued card #${index} is not storable (${fields})`);
    }
    const issuedAt = new Date(parsed.data.issuedAt).toISOString();
    return { ...parsed.data, issuedAt, issuedDay: issuedAt.slice(0, 10) };
  });
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
