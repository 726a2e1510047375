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

/**
 * What was shown and answered, by decision: the read side of "saying it once"
 * (clinical-policy.md §6). Writes go through the {@link CardRecorder}.
 */
export interface DecisionHistory {
  /** Cards shown for the patient (by hash) since the instant, with their answers. */
  shownSince(patientHash: string, since: Date): Promise<readonly PastShowing[]>;
}
