import type { SuppressedCard } from './analytics-store.js';

/** One card the service returned, as recorded for analytics: no patient data, keyed hashes only. */
export interface IssuedCard {
  readonly cardUuid: string;
  /** The policy row id, e.g. `cervical-stenosis-massage`. */
  readonly cardId: string;
  readonly knowledgeVersion: string;
  readonly serviceId: string;
  readonly hook: string;
  readonly hookInstance: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  /** ISO 8601 instant. */
  readonly issuedAt: string;
  /** HMAC-SHA256 of the patient id with the configured secret, hex. */
  readonly patientHash: string;
  /** HMAC-SHA256 of the order's (or appointment's) `Type/id`, hex; absent when the order has no id. */
  readonly orderHash?: string;
}

/** Why a card was held back (clinical-policy.md §6). */
export type SuppressionReason = 'overridden' | 'info-already-shown' | 'patient-view-already-shown';
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = ['overridden', 'info-already-shown', 'patient-view-already-shown'];

/** One card decided but not returned (its one schema is `StorableSuppressedCard`). */
export type { SuppressedCard };

/** Records issued cards. The card response never waits on it; failures are counted, not thrown at the client. */
export interface CardRecorder {
  recordIssued(cards: readonly IssuedCard[]): Promise<void>;
  recordSuppressed(cards: readonly SuppressedCard[]): Promise<void>;
}

/** A card shown earlier for a patient, with the answer it got (if any). */
export interface PastShowing {
  readonly cardUuid: string;
  readonly cardId: string;
  readonly orderHash: string | undefined;
  readonly hook: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  /** Epoch milliseconds. */
  readonly shownAt: number;
  /** Answers to this card, any order. */
  readonly answers: ReadonlyArray<{ readonly outcome: 'accepted' | 'overridden'; readonly at: number }>;
}

/** One decision in hand: the order (by hash) and card id it is about, and the uuid this call gives its card. */
export interface DecisionKey {
  readonly orderHash: string;
  readonly cardId: string;
  readonly cardUuid: string;
  /**
   * Whether the repeat rules read the decision's latest showings (`readsShowings` in
   * say-it-once.ts); when false the lookup leaves them out, and returns only the showing with the
   * same uuid and those carrying the latest answers.
   */
  readonly showings: boolean;
}

/** The instants a history lookup needs, all from one clock reading. */
export interface HistoryWindow {
  /** Start of the lockout: showings and answers before it no longer count. */
  readonly since: Date;
  /** Earliest showing whose answers still count (two lockouts back). */
  readonly lookbackFrom: Date;
  readonly now: Date;
}

/**
 * The answer of a history lookup: the showings themselves from a store that answers on the
 * calling thread (SQLite), or a promise of them from one that must wait on the network
 * (PostgreSQL). Only a pending answer needs the lookup budget.
 */
export type PastShowingsAnswer = readonly PastShowing[] | Promise<readonly PastShowing[]>;

/**
 * What was shown and answered, by decision: the read side of "saying it once"
 * (clinical-policy.md §6). Writes go through the {@link CardRecorder}.
 */
export interface DecisionHistory {
  /**
   * For each decision in hand, only the past showings the repeat rules can turn on: the one with
   * the same card uuid (a retry), the latest within the lockout on any hook and on patient-view,
   * and the ones carrying the latest override and the latest acceptance within the lockout. A
   * handful of rows whatever the length of the patient's history. May throw (or reject) when the
   * store cannot answer.
   */
  pastDecisions(patientHash: string, keys: readonly DecisionKey[], window: HistoryWindow): PastShowingsAnswer;
}
