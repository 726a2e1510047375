import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';
import type { FeedbackItem } from '../../../src/cds/feedback-schema.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import { createPostgresStore } from '../../../src/store/postgres-store.js';
import { createSqliteStore, SQLITE_FILE_NAME } from '../../../src/store/sqlite-store.js';
import type { IssuedCard } from '../../../src/store/types.js';
import { IN_CI } from '../../helpers/ci.js';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

/** PostgreSQL for tests: `TEST_DATABASE_URL` (see scripts/start-test-postgres.sh). */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL']?.trim() || undefined;
/** In CI a missing PostgreSQL is a failure, never a silent skip. */
export { IN_CI };
export const POSTGRES_MISSING_MESSAGE =
  'TEST_DATABASE_URL is not set: PostgreSQL store tests skipped. Start one with: eval "$(scripts/start-test-postgres.sh)"';

export const silentLogger: Logger = createLogger('silent');

/** A logger whose records can be inspected. */
export function capturingLogger(): { logger: Logger; records: () => Array<Record<string, unknown>>; text: () => string } {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  return {
    logger,
    records: () => lines.map((line) => z.record(z.string(), z.unknown()).parse(JSON.parse(line))),
    text: () => lines.join(''),
  };
}

/** One store location (a SQLite folder or a PostgreSQL schema) that can be opened several times. */
export interface StoreHarness {
  readonly kind: StoreKind;
  /** Opens a store instance on this location (migrating it on first use). */
  open(): Promise<AnalyticsStore>;
  /** The raw `known` flags stored for a card uuid's feedback, in insertion order. */
  knownFlags(cardUuid: string): Promise<boolean[]>;
  /** Versions in schema_migrations. */
  migrationVersions(): Promise<number[]>;
  /** Closes what was opened and removes the location. */
  cleanup(): Promise<void>;
}

const KnownRow = z.object({ known: z.union([z.boolean(), z.number().int()]) });
const VersionRow = z.object({ version: z.number().int() });

export function createSqliteHarness(): StoreHarness & { readonly dataDir: string; readonly file: string } {
  const root = mkdtempSync(join(tmpdir(), 'analytics-store-'));
  const dataDir = join(root, 'nested', 'data');
  const file = join(dataDir, SQLITE_FILE_NAME);
  const opened: AnalyticsStore[] = [];
  const read = <T>(query: (db: Database.Database) => T): T => {
    const db = new Database(file, { readonly: true });
    try {
      return query(db);
    } finally {
      db.close();
    }
  };
  return {
    kind: 'sqlite',
    dataDir,
    file,
    async open() {
      const store = createSqliteStore({ dataDir, logger: silentLogger });
      opened.push(store);
      return store;
    },
    async knownFlags(cardUuid) {
      return read((db) =>
        db
          .prepare('SELECT known FROM card_feedback WHERE card_uuid = ? ORDER BY id')
          .all(cardUuid)
          .map((row) => Boolean(KnownRow.parse(row).known)),
      );
    },
    async migrationVersions() {
      return read((db) => db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((row) => VersionRow.parse(row).version));
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function createPostgresHarness(url: string): StoreHarness & { readonly schema: string } {
  const schema = `test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const opened: AnalyticsStore[] = [];
  const query = async (sql: string, params: unknown[] = []): Promise<unknown[]> => {
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    kind: 'postgres',
    schema,
    async open() {
      const store = await createPostgresStore({ connectionString: url, logger: silentLogger, schema, poolSize: 4 });
      opened.push(store);
      return store;
    },
    async knownFlags(cardUuid) {
      const rows = await query('SELECT known FROM card_feedback WHERE card_uuid = $1 ORDER BY id', [cardUuid]);
      return rows.map((row) => Boolean(KnownRow.parse(row).known));
    },
    async migrationVersions() {
      const rows = await query('SELECT version FROM schema_migrations ORDER BY version');
      return rows.map((row) => VersionRow.parse(row).version);
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** A harness for the kind, or undefined when PostgreSQL is not configured. */
export function createHarness(kind: StoreKind): StoreHarness | undefined {
  if (kind === 'sqlite') return createSqliteHarness();
  return TEST_DATABASE_URL === undefined ? undefined : createPostgresHarness(TEST_DATABASE_URL);
}

/**
 * Runs a suite once per store kind on one store location (opened as often as the suite likes,
 * removed after). Without TEST_DATABASE_URL the PostgreSQL run is skipped locally and fails in CI.
 */
export function describeEachStore(title: string, suite: (harness: () => StoreHarness, kind: StoreKind) => void): void {
  describe.each(STORE_KINDS)(`${title} on %s`, (kind) => {
    if (kind === 'postgres' && TEST_DATABASE_URL === undefined) {
      if (IN_CI) it('has a PostgreSQL database to test against (TEST_DATABASE_URL is required when CI=true)', () => {
        throw new Error(POSTGRES_MISSING_MESSAGE);
      });
      else it.skip(`skipped: ${POSTGRES_MISSING_MESSAGE}`, () => undefined);
      return;
    }
    let harness: StoreHarness | undefined;
    beforeAll(() => {
      harness = createHarness(kind);
    });
    afterAll(async () => {
      await harness?.cleanup();
    });
    suite(() => {
      if (!harness) throw new Error(POSTGRES_MISSING_MESSAGE);
      return harness;
    }, kind);
  });
}

export const PATIENT_HASH = 'a'.repeat(64);

export function issuedCard(cardUuid: string, cardId: string, issuedAt: string): IssuedCard {
  return {
    cardUuid,
    cardId,
    knowledgeVersion: '2026.11.0',
    serviceId: 'spine-safety-order-sign',
    hook: 'order-sign',
    hookInstance: `hook-${cardUuid}`,
    indicator: 'warning',
    issuedAt,
    patientHash: PATIENT_HASH,
  };
}

export function overridden(card: string, outcomeTimestamp: string, reason?: { code: string; system?: string; display?: string }, userComment?: string): FeedbackItem {
  const overrideReason = { ...(reason ? { reason } : {}), ...(userComment !== undefined ? { userComment } : {}) };
  return { card, outcome: 'overridden', outcomeTimestamp, ...(reason || userComment !== undefined ? { overrideReason } : {}) };
}

export function accepted(card: string, outcomeTimestamp: string, suggestionIds: readonly string[]): FeedbackItem {
  return { card, outcome: 'accepted', outcomeTimestamp, acceptedSuggestions: suggestionIds.map((id) => ({ id })) };
}

export const CSM = 'cervical-stenosis-massage';
export const CCM = 'cord-compression-manipulation';
export const INF = 'stenosis-info';
export const SYSTEM = 'urn:spine-safety-cds:override-reason';
export const KNOWN_RANGE = { from: '2026-11-01', to: '2026-11-30' } as const;

/** Cards of the known data set; see `seedKnownData` for the expected report. */
export const KNOWN_CARDS: readonly IssuedCard[] = [
  issuedCard('csm-1', CSM, '2026-11-01T09:00:00Z'),
  issuedCard('csm-2', CSM, '2026-11-01T15:00:00Z'),
  issuedCard('csm-3', CSM, '2026-11-02T08:00:00+02:00'),
  issuedCard('csm-4', CSM, '2026-11-30T23:59:59.999Z'),
  issuedCard('csm-5', CSM, '2026-12-01T00:00:00Z'),
  issuedCard('csm-6', CSM, '2026-11-01T01:00:00+03:00'),
  issuedCard('ccm-1', CCM, '2026-11-03T10:00:00Z'),
  issuedCard('ccm-2', CCM, '2026-11-03T11:00:00Z'),
  issuedCard('inf-1', INF, '2026-11-05T10:00:00Z'),
];

const ccmReasons: Array<[string, string | undefined]> = [
  ['r1', 'Reason one'],
  ['r1', 'Reason one'],
  ['r1', 'Reason 1'],
  ['r2', undefined],
  ['r2', undefined],
  ['r3', undefined],
  ['r4', undefined],
  ['r5', undefined],
  ['r6', undefined],
];

/** 21 feedback items, one of them a repeat: 20 distinct. */
export const KNOWN_FEEDBACK: readonly FeedbackItem[] = [
  overridden('csm-1', '2026-11-01T10:00:00Z', { system: SYSTEM, code: 'benefit-outweighs-risk', display: 'Benefit outweighs risk' }, 'discussed with patient'),
  overridden('csm-1', '2026-11-01T10:00:00.000Z', { system: SYSTEM, code: 'benefit-outweighs-risk', display: 'Benefit outweighs risk' }, 'discussed with patient'),
  accepted('csm-2', '2026-11-01T16:00:00Z', ['s-cancel', 's-refer', 's-cancel']),
  overridden('csm-3', '2026-11-02T09:00:00Z', { code: 'benefit-outweighs-risk' }, '   '),
  overridden('csm-4', '2026-12-01T00:30:00+01:00', { system: SYSTEM, code: 'already-assessed', display: 'Already assessed' }),
  overridden('csm-5', '2026-12-01T00:00:00Z', { code: 'other' }),
  accepted('csm-1', '2026-11-02T12:00:00Z', ['s-refer']),
  overridden('csm-6', '2026-11-02T10:00:00Z', { code: 'other' }, 'see note'),
  ...ccmReasons.map(([code, display], index) =>
    overridden('ccm-1', `2026-11-03T10:0${index}:00Z`, display === undefined ? { code } : { code, display }),
  ),
  accepted('ccm-2', '2026-11-03T12:00:00Z', []),
  overridden('never-issued-1', '2026-11-10T10:00:00Z'),
  accepted('never-issued-2', '2026-11-11T10:00:00Z', ['x']),
  overridden('never-issued-3', '2026-12-05T10:00:00Z'),
];

export async function seedKnownData(store: AnalyticsStore): Promise<{ stored: number; duplicates: number }> {
  await store.recordIssued(KNOWN_CARDS);
  return store.recordFeedback('spine-safety-order-sign', KNOWN_FEEDBACK, new Date('2026-12-06T00:00:00Z'));
}
