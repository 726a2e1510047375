import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { FeedbackItem } from '../cds/feedback-schema.js';
import type { Logger } from '../logger.js';
import {
  decisionHistoryQuery,
  decisionHistoryValues,
  decisionShownQuery,
  decisionShownValues,
  toFeedbackRow,
  toIssuedCardRows,
  toPastShowings,
  toSuppressedCardRows,
  type AnalyticsStore,
  type FeedbackWriteResult,
  type HistoryDialect,
} from './analytics-store.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { startSqliteWriter, type WriterStatements } from './sqlite-writer.js';
import { buildReport, REPORT_QUERIES, type AnalyticsReport, type ReportQueryName, type ReportRange } from './report.js';
import type { DecisionKey, HistoryWindow, IssuedCard, PastShowing, SuppressedCard } from './types.js';

export interface SqliteStoreOptions {
  /** Folder of the database file `analytics.sqlite`; created when missing. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** How long a write waits for another connection's write lock before failing. */
  readonly busyTimeoutMs?: number;
}

export const SQLITE_FILE_NAME = 'analytics.sqlite';

const AppliedVersion = z.object({ version: z.number().int() });

/** Issued and suppressed cards are written by the writer thread, with these statements. */
const WRITER_STATEMENTS: WriterStatements = {
  insertIssued: `
    INSERT INTO issued_cards (card_uuid, card_id, knowledge_version, service_id, hook, hook_instance,
      indicator, issued_at, issued_day, patient_hash, order_hash)
    VALUES (@cardUuid, @cardId, @knowledgeVersion, @serviceId, @hook, @hookInstance,
      @indicator, @issuedAt, @issuedDay, @patientHash, @orderHash)
    ON CONFLICT (card_uuid) DO NOTHING`,
  // Feedback that came before its card learns the card's decision keys.
  markKnown: `
    UPDATE card_feedback SET known = 1, patient_hash = @patientHash, order_hash = @orderHash, card_id = @cardId
    WHERE known = 0 AND card_uuid = @cardUuid`,
  insertSuppressed: `
    INSERT INTO suppressed_cards (card_uuid, card_id, knowledge_version, service_id, hook, hook_instance, indicator,
      reason, suppressed_at, suppressed_day, patient_hash, order_hash)
    VALUES (@cardUuid, @cardId, @knowledgeVersion, @serviceId, @hook, @hookInstance, @indicator,
      @reason, @suppressedAt, @suppressedDay, @patientHash, @orderHash)
    ON CONFLICT DO NOTHING`,
};

/**
 * Opens (creating and migrating if needed) the SQLite analytics store at
 * `<dataDir>/analytics.sqlite`: WAL journal so readers never block the writer, `synchronous = FULL`
 * so a resolved write survives power loss, and a busy timeout so several processes on one host
 * (workers, the report script) take turns for the write lock instead of failing.
 *
 * Issued and suppressed cards are written on a thread of their own (their fsync never holds the
 * event loop); history lookups, feedback, token claims and reports run on this connection, each a
 * short synchronous statement.
 */
export function createSqliteStore(options: SqliteStoreOptions): AnalyticsStore {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, SQLITE_FILE_NAME);
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`SQLite refused WAL journal mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    migrate(db, options.logger);
  } catch (error) {
    db.close();
    throw error;
  }

  const writer = startSqliteWriter({ file, busyTimeoutMs: options.busyTimeoutMs ?? 5000, statements: WRITER_STATEMENTS });
  const insertFeedback = db.prepare(`
    INSERT INTO card_feedback (card_uuid, service_id, outcome, outcome_timestamp, outcome_day,
      accepted_suggestion_ids, suggestions_taken, reason_system, reason_code, reason_display,
      has_comment, known, received_at, patient_hash, order_hash, card_id)
    VALUES (@cardUuid, @serviceId, @outcome, @outcomeTimestamp, @outcomeDay,
      @acceptedSuggestionIds, @suggestionsTaken, @reasonSystem, @reasonCode, @reasonDisplay,
      @hasComment, EXISTS (SELECT 1 FROM issued_cards WHERE card_uuid = @cardUuid), @receivedAt,
      (SELECT patient_hash FROM issued_cards WHERE card_uuid = @cardUuid),
      (SELECT order_hash FROM issued_cards WHERE card_uuid = @cardUuid),
      (SELECT card_id FROM issued_cards WHERE card_uuid = @cardUuid))
    ON CONFLICT (card_uuid, outcome, outcome_timestamp) DO NOTHING`);
  const historyDialect: HistoryDialect = { parameter: (name) => `@${name}`, nullTime: 'NULL', indexedBy: (index) => `INDEXED BY ${index}` };
  const selectShown = db.prepare(decisionShownQuery(historyDialect)).pluck();
  const selectHistory = db.prepare(decisionHistoryQuery(historyDialect));
  const claimToken = db.prepare(`
    INSERT INTO seen_tokens (token_key, forget_after) VALUES (?, ?)
    ON CONFLICT (token_key) DO UPDATE SET forget_after = excluded.forget_after
      WHERE seen_tokens.forget_after <= ?`);
  const reportStatements = new Map<string, Database.Statement>();

  const writeFeedback = db.transaction((serviceId: string, items: readonly FeedbackItem[], receivedAt: Date) => {
    let stored = 0;
    for (const item of items) {
      const row = toFeedbackRow(serviceId, item, receivedAt);
      stored += insertFeedback.run({ ...row, hasComment: row.hasComment ? 1 : 0 }).changes;
    }
    return stored;
  });

  return {
    async recordIssued(cards: readonly IssuedCard[]): Promise<void> {
      if (cards.length === 0) return;
      await writer.write(toIssuedCardRows(cards), []);
    },

    async recordSuppressed(cards: readonly SuppressedCard[]): Promise<void> {
      if (cards.length === 0) return;
      await writer.write([], toSuppressedCardRows(cards));
    },

    // Answered on this thread, so returned as is: the caller arms no budget timer for it.
    pastDecisions(patientHash: string, keys: readonly DecisionKey[], window: HistoryWindow): readonly PastShowing[] {
      const lookback = window.lookbackFrom.toISOString();
      const rows: unknown[] = [];
      for (const key of keys) {
        // A decision never shown since the lookback has no history (see decisionShownQuery): one index read.
        if (selectShown.get(decisionShownValues(patientHash, key, lookback)) === undefined) continue;
        for (const row of selectHistory.all(decisionHistoryValues(patientHash, key, window))) rows.push(row);
      }
      return toPastShowings(rows);
    },

    async recordFeedback(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<FeedbackWriteResult> {
      if (items.length === 0) return { stored: 0, duplicates: 0 };
      const stored = writeFeedback.immediate(serviceId, items, receivedAt);
      return { stored, duplicates: items.length - stored };
    },

    async report(range: ReportRange): Promise<AnalyticsReport> {
      // One read transaction, so the four queries see the same snapshot.
      const rows = db.transaction(() => {
        const all = (name: ReportQueryName): unknown[] => statementFor(REPORT_QUERIES[name]).all(range.from, range.to);
        return { issued: all('issued'), outcomes: all('outcomes'), reasons: all('reasons'), unknown: all('unknown'), suppressed: all('suppressed') };
      }).deferred();
      return buildReport(range, rows);
    },

    async claimToken(tokenKey: string, forgetAfter: Date, now: Date): Promise<boolean> {
      return claimToken.run(tokenKey, forgetAfter.toISOString(), now.toISOString()).changes === 1;
    },

    async ping(): Promise<void> {
      db.prepare('SELECT 1').get();
    },

    async close(): Promise<void> {
      await writer.close();
      if (db.open) db.close();
    },
  };

  function statementFor(sql: string): Database.Statement {
    let statement = reportStatements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      reportStatements.set(sql, statement);
    }
    return statement;
  }
}

/** Applies missing migrations under SQLite's write lock, so processes starting together take turns. */
function migrate(db: Database.Database, logger: Logger): void {
  const apply = db.transaction(() => {
    db.exec(MIGRATIONS_TABLE.sqlite);
    const applied = new Set(
      db.prepare('SELECT version FROM schema_migrations').all().map((row) => AppliedVersion.parse(row).version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
      logger.info({ store: 'sqlite', version: migration.version, migration: migration.name }, 'applied analytics migration');
    }
    const newest = Math.max(0, ...applied);
    if (newest > LATEST_SCHEMA_VERSION) {
      logger.warn({ store: 'sqlite', version: newest, known: LATEST_SCHEMA_VERSION }, 'analytics schema is newer than this build');
    }
  });
  apply.immediate();
}
