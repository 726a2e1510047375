/** One card the service returned, as recorded for analytics: no patient data, a keyed hash only. */
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
}

/** Records issued cards. The card response never waits on it; failures are counted, not thrown at the client. */
export interface CardRecorder {
  recordIssued(cards: readonly IssuedCard[]): Promise<void>;
}
