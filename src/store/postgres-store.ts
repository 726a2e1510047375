import pg from 'pg';
import { z } from 'zod';
import type { FeedbackItem } from '../cds/feedback-schema.js';
import { errorKind, type Logger } from '../logger.js';
import {
  decisionHistoryQuery,
  decisionShownQuery,
  toFeedbackRow,
  toIssuedCardRows,
  toPastShowings,
  toSuppressedCardRows,
  type AnalyticsStore,
  type DecisionHistoryParameter,
  type FeedbackWriteResult,
  type HistoryDialect,
  type IssuedCardRow,
  type SuppressedCardRow,
} from './analytics-store.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { buildReport, REPORT_QUERIES, type AnalyticsReport, type ReportQueryName, type ReportRange } from './report.js';
import type { DecisionKey, HistoryWindow, IssuedCard, PastShowing, SuppressedCard } from './types.js';

export interface PostgresStoreOptions {
  /** `postgresql://user@host:port/database` (DATABASE_URL). */
  readonly connectionString: string;
  readonly logger: Logger;
  /**
   * Schema holding the tables, created when missing; the connection's default search path when
   * absent. Lower-case letters, digits and `_` only.
   */
  readonly schema?: string;
  /** Connections per instance. */
  readonly poolSize?: number;
  /** How long to wait for a connection before failing the call (the caller answers 503). */
  readonly connectTimeoutMs?: number;
  /** Server-side limit per statement; the client gives up 5 s later (a vanished server cannot hang a call). */
  readonly statementTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const MIGRATION_LOCK_PREFIX = 'spine-safety-cds:analytics-migrations:';

const AppliedVersion = z.object({ version: z.number().int() });
const StoredCount = z.object({ stored: z.number().int() });

/** Inserts a batch of issued cards (one array per column) and marks earlier feedback about them as known. */
const INSERT_ISSUED = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
      $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])
      AS t(card_uuid, card_id, knowledge_version, service_id, hook, hook_instance,
        indicator, issued_at, issued_day, patient_hash, order_hash)
  ), inserted AS (
    INSERT INTO issued_cards (card_uuid, card_id, knowledge_version, service_id, hook, hook_instance,
      indicator, issued_at, issued_day, patient_hash, order_hash)
    SELECT * FROM input
    ON CONFLICT (card_uuid) DO NOTHING
  )
  UPDATE card_feedback f SET known = TRUE, patient_hash = input.patient_hash, order_hash = input.order_hash, card_id = input.card_id
  FROM input WHERE f.known = FALSE AND f.card_uuid = input.card_uuid`;

/** Inserts a batch of suppressed cards (one array per column). */
const INSERT_SUPPRESSED = `
  INSERT INTO suppressed_cards (card_id, knowledge_version, service_id, hook, hook_instance, indicator,
    reason, suppressed_at, suppressed_day, patient_hash, order_hash, card_uuid)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[])
  ON CONFLICT DO NOTHING`;

/** The row fields bound to INSERT_ISSUED's arrays, $1 to $11 in order. */
const ISSUED_COLUMNS = [
  'cardUuid',
  'cardId',
  'knowledgeVersion',
  'serviceId',
  'hook',
  'hookInstance',
  'indicator',
  'issuedAt',
  'issuedDay',
  'patientHash',
  'orderHash',
] as const satisfies ReadonlyArray<keyof IssuedCardRow>;

/** The row fields bound to INSERT_SUPPRESSED's arrays, $1 to $12 in order. */
const SUPPRESSED_COLUMNS = [
  'cardId',
  'knowledgeVersion',
  'serviceId',
  'hook',
  'hookInstance',
  'indicator',
  'reason',
  'suppressedAt',
  'suppressedDay',
  'patientHash',
  'orderHash',
  'cardUuid',
] as const satisfies ReadonlyArray<keyof SuppressedCardRow>;

/** One array per column, for a multi-row insert through `unnest`. */
function columnsOf<Row, Key extends keyof Row>(rows: readonly Row[], keys: readonly Key[]): Array<Array<Row[Key]>> {
  return keys.map((key) => rows.map((row) => row[key]));
}

/** Claims a token key unless an unexpired claim exists; returns a row only when the claim is new. */
const CLAIM_TOKEN = {
  name: 'claim-token',
  text: `
    INSERT INTO seen_tokens (token_key, forget_after) VALUES ($1, $2)
    ON CONFLICT (token_key) DO UPDATE SET forget_after = EXCLUDED.forget_after
      WHERE seen_tokens.forget_after <= $3
    RETURNING 1`,
};

/** Claims expire; one in this many also clears expired ones. */
const TOKEN_SWEEP_EVERY = 500;

/**
 * Where the batched history lookup reads each parameter: the call's from $1 to $4, a decision's
 * own from its row `k` of the VALUES list (four parameters per decision from $5 on).
 */
const BATCH_PARAMETERS: Readonly<Record<DecisionHistoryParameter, string>> = {
  patient: '$1',
  lookback: '$2',
  since: '$3',
  now: '$4',
  order: 'k.order_hash',
  card: 'k.card_id',
  uuid: 'k.card_uuid',
  showings: 'k.showings',
};

/** The history lookup's SQL in PostgreSQL, reading the parameters where {@link BATCH_PARAMETERS} says. */
const BATCH_DIALECT: HistoryDialect = {
  parameter: (name) => BATCH_PARAMETERS[name],
  nullTime: 'CAST(NULL AS timestamptz)',
  indexedBy: () => '',
};

/** Most decisions looked up in one statement; a call with more sends several, in parallel. */
const MAX_BATCH = 8;

/**
 * The history lookup for `count` decisions in one statement (one round trip), prepared once per
 * connection by name. Per decision the probe runs first, and the five branches only when it
 * found a showing; as a LATERAL subquery with LIMIT 1 the probe stays one index read (as an
 * EXISTS filter the planner may turn it into a hashed scan of the patient's history). The
 * decisions come as a VALUES list rather than unnested arrays: the planner then knows their
 * number and keeps the statement's generic plan, instead of planning it again on every call.
 */
function historyStatement(count: number): { readonly name: string; readonly text: string } {
  const rows = Array.from({ length: count }, (_, index) => {
    const first = 5 + 4 * index;
    return `($${first}::text, $${first + 1}::text, $${first + 2}::text, $${first + 3}::int)`;
  });
  return {
    name: `decision-history-${count}`,
    text: `
      SELECT h.* FROM (VALUES ${rows.join(', ')}) AS k(order_hash, card_id, card_uuid, showings)
      CROSS JOIN LATERAL (${decisionShownQuery(BATCH_DIALECT)}) AS shown
      CROSS JOIN LATERAL (${decisionHistoryQuery(BATCH_DIALECT)}) AS h`,
  };
}

const HISTORY_STATEMENTS = Array.from({ length: MAX_BATCH }, (_, index) => historyStatement(index + 1));

/** The batched lookup for up to {@link MAX_BATCH} decisions, with its values. */
function historyQuery(patientHash: string, keys: readonly DecisionKey[], instants: readonly string[]): pg.QueryConfig {
  const statement = HISTORY_STATEMENTS[keys.length - 1];
  if (!statement) throw new RangeError(`a history batch holds 1 to ${MAX_BATCH} decisions`);
  const values: string[] = [patientHash, ...instants];
  for (const key of keys) values.push(key.orderHash, key.cardId, key.cardUuid, key.showings ? '1' : '0');
  return { name: statement.name, text: statement.text, values };
}

/** Inserts a batch of feedback rows (one array per column), skipping ones already stored; returns how many were new. */
const INSERT_FEEDBACK = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
      $7::int[], $8::text[], $9::text[], $10::text[], $11::boolean[], $12::timestamptz[])
      AS t(card_uuid, service_id, outcome, outcome_timestamp, outcome_day, accepted_suggestion_ids,
        suggestions_taken, reason_system, reason_code, reason_display, has_comment, received_at)
  ), inserted AS (
    INSERT INTO card_feedback (card_uuid, service_id, outcome, outcome_timestamp, outcome_day,
      accepted_suggestion_ids, suggestions_taken, reason_system, reason_code, reason_display,
      has_comment, known, received_at, patient_hash, order_hash, card_id)
    SELECT input.card_uuid, input.service_id, outcome, outcome_timestamp, outcome_day,
      accepted_suggestion_ids, suggestions_taken, reason_system, reason_code, reason_display,
      has_comment, i.card_uuid IS NOT NULL, received_at, i.patient_hash, i.order_hash, i.card_id
    FROM input LEFT JOIN issued_cards i ON i.card_uuid = input.card_uuid
    ON CONFLICT (card_uuid, outcome, outcome_timestamp) DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int AS stored FROM inserted`;

/**
 * Opens the PostgreSQL analytics store and brings its schema up to date. Migrations run in one
 * transaction under `pg_advisory_xact_lock`, so instances starting together apply each version
 * once and the others wait, then find it applied. Rejects if the database cannot be reached.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<AnalyticsStore> {
  const { schema, logger } = options;
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error('PostgreSQL schema name must match [a-z_][a-z0-9_]*');
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 5000,
    keepAlive: true,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection dropped by the server is reported here; unhandled it would end the process.
  pool.on('error', (error) => logger.warn({ err: errorKind(error), store: 'postgres' }, 'idle PostgreSQL connection failed'));

  try {
    await migrate(pool, schema, logger);
  } catch (error) {
    await pool.end();
    throw error;
  }

  let closed = false;
  let claims = 0;

  return {
    async recordIssued(cards: readonly IssuedCard[]): Promise<void> {
      if (cards.length === 0) return;
      const rows = toIssuedCardRows(cards);
      await inTransaction(pool, async (client) => {
        await lockCardUuids(client, rows.map((row) => row.cardUuid));
        await client.query(INSERT_ISSUED, columnsOf(rows, ISSUED_COLUMNS));
      });
    },

    async recordSuppressed(cards: readonly SuppressedCard[]): Promise<void> {
      if (cards.length === 0) return;
      const rows = toSuppressedCardRows(cards);
      await pool.query(INSERT_SUPPRESSED, columnsOf(rows, SUPPRESSED_COLUMNS));
    },

    async pastDecisions(patientHash: string, keys: readonly DecisionKey[], window: HistoryWindow): Promise<readonly PastShowing[]> {
      const instants = [window.lookbackFrom.toISOString(), window.since.toISOString(), window.now.toISOString()];
      const batches: Array<readonly DecisionKey[]> = [];
      for (let start = 0; start < keys.length; start += MAX_BATCH) batches.push(keys.slice(start, start + MAX_BATCH));
      const results = await Promise.all(batches.map((batch) => pool.query(historyQuery(patientHash, batch, instants))));
      return toPastShowings(results.flatMap((result) => result.rows));
    },

    async recordFeedback(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<FeedbackWriteResult> {
      if (items.length === 0) return { stored: 0, duplicates: 0 };
      const rows = items.map((item) => toFeedbackRow(serviceId, item, receivedAt));
      const result = await inTransaction(pool, async (client) => {
        await lockCardUuids(client, rows.map((row) => row.cardUuid));
        return client.query(INSERT_FEEDBACK, [
          rows.map((row) => row.cardUuid),
          rows.map((row) => row.serviceId),
          rows.map((row) => row.outcome),
          rows.map((row) => row.outcomeTimestamp),
          rows.map((row) => row.outcomeDay),
          rows.map((row) => row.acceptedSuggestionIds),
          rows.map((row) => row.suggestionsTaken),
          rows.map((row) => row.reasonSystem),
          rows.map((row) => row.reasonCode),
          rows.map((row) => row.reasonDisplay),
          rows.map((row) => row.hasComment),
          rows.map((row) => row.receivedAt),
        ]);
      });
      const { stored } = StoredCount.parse(result.rows[0]);
      return { stored, duplicates: items.length - stored };
    },

    async report(range: ReportRange): Promise<AnalyticsReport> {
      const client = await pool.connect();
      let rows;
      try {
        // One snapshot for the four queries.
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const all = async (name: ReportQueryName): Promise<unknown[]> =>
          (await client.query(numberPlaceholders(REPORT_QUERIES[name]), [range.from, range.to])).rows;
        rows = {
          issued: await all('issued'),
          outcomes: await all('outcomes'),
          reasons: await all('reasons'),
          unknown: await all('unknown'),
          suppressed: await all('suppressed'),
        };
        await client.query('COMMIT');
      } catch (error) {
        client.release(true);
        throw error;
      }
      client.release();
      return buildReport(range, rows);
    },

    async claimToken(tokenKey: string, forgetAfter: Date, now: Date): Promise<boolean> {
      const result = await pool.query({ ...CLAIM_TOKEN, values: [tokenKey, forgetAfter.toISOString(), now.toISOString()] });
      claims += 1;
      if (claims % TOKEN_SWEEP_EVERY === 0) {
        pool.query('DELETE FROM seen_tokens WHERE forget_after <= $1', [now.toISOString()]).catch(() => undefined);
      }
      return result.rowCount === 1;
    },

    async ping(): Promise<void> {
      await pool.query('SELECT 1');
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let result: T;
  try {
    await client.query('BEGIN');
    result = await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw error;
  }
  client.release();
  return result;
}

/**
 * Serialises writes that touch the same card uuids until commit, so an issued card and feedback
 * about it written at the same moment still leave the feedback marked `known`. Locks are taken
 * in one sorted order, so two batches cannot deadlock.
 */
async function lockCardUuids(client: pg.PoolClient, cardUuids: readonly string[]): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(h)
     FROM (SELECT DISTINCT hashtextextended(u, 0) AS h FROM unnest($1::text[]) AS u ORDER BY h) AS locks`,
    [cardUuids],
  );
}

/** Rewrites `?` placeholders as `$1`, `$2`, … (the report SQL holds no other question marks). */
function numberPlaceholders(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${(index += 1)}`);
}

async function migrate(pool: pg.Pool, schema: string | undefined, logger: Logger): Promise<void> {
  const applied = await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [MIGRATION_LOCK_PREFIX + (schema ?? '')]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(MIGRATIONS_TABLE.postgres);
    const versions = new Set(
      (await client.query('SELECT version FROM schema_migrations')).rows.map((row) => AppliedVersion.parse(row).version),
    );
    for (const migration of MIGRATIONS) {
      if (versions.has(migration.version)) continue;
      await client.query(migration.postgres);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      logger.info({ store: 'postgres', version: migration.version, migration: migration.name }, 'applied analytics migration');
    }
    return versions;
  });
  const newest = Math.max(0, ...applied);
  if (newest > LATEST_SCHEMA_VERSION) {
    logger.warn({ store: 'postgres', version: newest, known: LATEST_SCHEMA_VERSION }, 'analytics schema is newer than this build');
  }
}
