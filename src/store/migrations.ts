/**
 * Versioned schema of the analytics store, one entry per version, with the SQL for each dialect.
 * A migration is applied once, in a transaction, and recorded in `schema_migrations`; released
 * migrations are never edited, a change is a new version.
 *
 * Both dialects keep the same tables, columns and meaning so that `report.ts` runs the same
 * queries on either. Days (`issued_day`, `outcome_day`) are UTC `YYYY-MM-DD` text in both, with
 * byte-order collation in PostgreSQL, so range filters and grouping agree exactly.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

/** The bookkeeping table, created before any migration runs. */
export const MIGRATIONS_TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
} as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'issued-cards-and-feedback',
    sqlite: `
      CREATE TABLE issued_cards (
        card_uuid TEXT PRIMARY KEY,
        card_id TEXT NOT NULL,
        knowledge_version TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hook TEXT NOT NULL,
        hook_instance TEXT NOT NULL,
        indicator TEXT NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
        issued_at TEXT NOT NULL,
        issued_day TEXT NOT NULL,
        patient_hash TEXT NOT NULL
      );
      CREATE INDEX issued_cards_day_card ON issued_cards (issued_day, card_id);

      CREATE TABLE card_feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        card_uuid TEXT NOT NULL,
        service_id TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
        outcome_timestamp TEXT NOT NULL,
        outcome_day TEXT NOT NULL,
        accepted_suggestion_ids TEXT NOT NULL,
        suggestions_taken INTEGER NOT NULL,
        reason_system TEXT,
        reason_code TEXT,
        reason_display TEXT,
        has_comment INTEGER NOT NULL CHECK (has_comment IN (0, 1)),
        known INTEGER NOT NULL CHECK (known IN (0, 1)),
        received_at TEXT NOT NULL,
        UNIQUE (card_uuid, outcome, outcome_timestamp)
      );
      CREATE INDEX card_feedback_day ON card_feedback (outcome_day);
    `,
    postgres: `
      CREATE TABLE issued_cards (
        card_uuid TEXT PRIMARY KEY,
        card_id TEXT NOT NULL,
        knowledge_version TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hook TEXT NOT NULL,
        hook_instance TEXT NOT NULL,
        indicator TEXT NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
        issued_at TIMESTAMPTZ NOT NULL,
        issued_day TEXT COLLATE "C" NOT NULL,
        patient_hash TEXT NOT NULL
      );
      CREATE INDEX issued_cards_day_card ON issued_cards (issued_day, card_id);

      CREATE TABLE card_feedback (
        id BIGSERIAL PRIMARY KEY,
        card_uuid TEXT NOT NULL,
        service_id TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
        outcome_timestamp TIMESTAMPTZ NOT NULL,
        outcome_day TEXT COLLATE "C" NOT NULL,
        accepted_suggestion_ids TEXT NOT NULL,
        suggestions_taken INTEGER NOT NULL,
        reason_system TEXT,
        reason_code TEXT,
        reason_display TEXT,
        has_comment BOOLEAN NOT NULL,
        known BOOLEAN NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        UNIQUE (card_uuid, outcome, outcome_timestamp)
      );
      CREATE INDEX card_feedback_day ON card_feedback (outcome_day);
    `,
  },
  {
    version: 2,
    name: 'decision-keys-suppressed-cards-and-seen-tokens',
    sqlite: `
      ALTER TABLE issued_cards ADD COLUMN order_hash TEXT;
      CREATE INDEX issued_cards_patient_time ON issued_cards (patient_hash, issued_at);
      CREATE INDEX card_feedback_card ON card_feedback (card_uuid);

      CREATE TABLE suppressed_cards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        card_id TEXT NOT NULL,
        knowledge_version TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hook TEXT NOT NULL,
        hook_instance TEXT NOT NULL,
        indicator TEXT NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
        reason TEXT NOT NULL,
        suppressed_at TEXT NOT NULL,
        suppressed_day TEXT NOT NULL,
        patient_hash TEXT NOT NULL,
        order_hash TEXT NOT NULL,
        UNIQUE (hook_instance, patient_hash, order_hash, card_id, suppressed_at)
      );
      CREATE INDEX suppressed_cards_day_card ON suppressed_cards (suppressed_day, card_id);

      CREATE TABLE seen_tokens (
        token_key TEXT PRIMARY KEY,
        forget_after TEXT NOT NULL
      );
    `,
    postgres: `
      ALTER TABLE issued_cards ADD COLUMN order_hash TEXT;
      CREATE INDEX issued_cards_patient_time ON issued_cards (patient_hash, issued_at);
      CREATE INDEX card_feedback_card ON card_feedback (card_uuid);

      CREATE TABLE suppressed_cards (
        id BIGSERIAL PRIMARY KEY,
        card_id TEXT NOT NULL,
        knowledge_version TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hook TEXT NOT NULL,
        hook_instance TEXT NOT NULL,
        indicator TEXT NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
        reason TEXT NOT NULL,
        suppressed_at TIMESTAMPTZ NOT NULL,
        suppressed_day TEXT COLLATE "C" NOT NULL,
        patient_hash TEXT NOT NULL,
        order_hash TEXT NOT NULL,
        UNIQUE (hook_instance, patient_hash, order_hash, card_id, suppressed_at)
      );
      CREATE INDEX suppressed_cards_day_card ON suppressed_cards (suppressed_day, card_id);

      CREATE TABLE seen_tokens (
        token_key TEXT PRIMARY KEY,
        forget_after TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX seen_tokens_forget_after ON seen_tokens (forget_after);
    `,
  },
  {
    version: 3,
    name: 'decision-history-indexes-and-suppressed-card-uuids',
    sqlite: `
      DROP INDEX issued_cards_patient_time;
      CREATE INDEX issued_cards_decision_time ON issued_cards (patient_hash, order_hash, card_id, issued_at);
      CREATE INDEX issued_cards_decision_hook_time ON issued_cards (patient_hash, order_hash, card_id, hook, issued_at);

      ALTER TABLE card_feedback ADD COLUMN patient_hash TEXT;
      ALTER TABLE card_feedback ADD COLUMN order_hash TEXT;
      ALTER TABLE card_feedback ADD COLUMN card_id TEXT;
      UPDATE card_feedback SET
        patient_hash = (SELECT i.patient_hash FROM issued_cards i WHERE i.card_uuid = card_feedback.card_uuid),
        order_hash = (SELECT i.order_hash FROM issued_cards i WHERE i.card_uuid = card_feedback.card_uuid),
        card_id = (SELECT i.card_id FROM issued_cards i WHERE i.card_uuid = card_feedback.card_uuid);
      CREATE INDEX card_feedback_decision_time ON card_feedback (patient_hash, order_hash, card_id, outcome, received_at);

      ALTER TABLE suppressed_cards ADD COLUMN card_uuid TEXT;
      CREATE UNIQUE INDEX suppressed_cards_card_uuid ON suppressed_cards (card_uuid);
    `,
    postgres: `
      DROP INDEX issued_cards_patient_time;
      CREATE INDEX issued_cards_decision_time ON issued_cards (patient_hash, order_hash, card_id, issued_at);
      CREATE INDEX issued_cards_decision_hook_time ON issued_cards (patient_hash, order_hash, card_id, hook, issued_at);

      ALTER TABLE card_feedback ADD COLUMN patient_hash TEXT, ADD COLUMN order_hash TEXT, ADD COLUMN card_id TEXT;
      UPDATE card_feedback f SET patient_hash = i.patient_hash, order_hash = i.order_hash, card_id = i.card_id
        FROM issued_cards i WHERE i.card_uuid = f.card_uuid;
      CREATE INDEX card_feedback_decision_time ON card_feedback (patient_hash, order_hash, card_id, outcome, received_at);

      ALTER TABLE suppressed_cards ADD COLUMN card_uuid TEXT;
      CREATE UNIQUE INDEX suppressed_cards_card_uuid ON suppressed_cards (card_uuid);
    `,
  },
];

/** The newest schema version this build knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, migration) => Math.max(max, migration.version), 0);
