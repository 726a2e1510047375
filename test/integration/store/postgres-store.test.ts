import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { createPostgresStore } from '../../../src/store/postgres-store.js';
import {
  createPostgresHarness,
  CSM,
  IN_CI,
  issuedCard,
  KNOWN_RANGE,
  overridden,
  POSTGRES_MISSING_MESSAGE,
  silentLogger,
  TEST_DATABASE_URL,
} from './store-harness.js';
import { listenOnLoopback } from '../../helpers/loopback.js';

describe('PostgreSQL analytics store', () => {
  if (TEST_DATABASE_URL === undefined) {
    if (IN_CI) {
      it('has a PostgreSQL database to test against (TEST_DATABASE_URL is required when CI=true)', () => {
        throw new Error(POSTGRES_MISSING_MESSAGE);
      });
    } else {
      it.skip(`skipped: ${POSTGRES_MISSING_MESSAGE}`, () => undefined);
    }
    return;
  }
  const url = TEST_DATABASE_URL;

  it('applies migrations once when several instances start together on an empty schema', async () => {
    const harness = createPostgresHarness(url);
    try {
      const stores = await Promise.all(Array.from({ length: 5 }, () => harness.open()));
      expect(await harness.migrationVersions()).toEqual(MIGRATIONS.map((migration) => migration.version));
      await stores[0]?.recordIssued([issuedCard('c-1', CSM, '2026-11-01T09:00:00Z')]);
      const reports = await Promise.all(stores.map((store) => store.report(KNOWN_RANGE)));
      for (const report of reports) expect(report.cards.map((c) => [c.cardId, c.issued])).toEqual([[CSM, 1]]);
    } finally {
      await harness.cleanup();
    }
  });

  it('stores overlapping feedback once when two instances write at once', async () => {
    const harness = createPostgresHarness(url);
    try {
      const [first, second] = await Promise.all([harness.open(), harness.open()]);
      if (!first || !second) throw new Error('stores not opened');
      const items = Array.from({ length: 8 }, (_, i) => overridden(`c-${i % 4}`, `2026-11-0${1 + (i % 3)}T10:00:00Z`));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? first : second).recordFeedback('svc', items, new Date())),
      );
      expect(results.reduce((sum, r) => sum + r.stored, 0)).toBe(8);
      expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(72);
      expect((await first.report(KNOWN_RANGE)).unknownCardFeedback).toEqual({ total: 8, accepted: 0, overridden: 8 });
    } finally {
      await harness.cleanup();
    }
  });

  it('fails to open when the database refuses the connection', async () => {
    const unreachable = new URL(url);
    unreachable.port = '1';
    await expect(createPostgresStore({ connectionString: unreachable.toString(), logger: silentLogger, connectTimeoutMs: 2000 })).rejects.toThrow();
  });

  // The listener accepts and never answers, so only the connect timeout can end the attempt
  // before jest's own timeout does.
  it('gives up at the connect timeout when the database accepts but never answers', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    const mute = new URL(url);
    mute.hostname = '127.0.0.1';
    mute.port = String(await listenOnLoopback(silent));
    try {
      await expect(createPostgresStore({ connectionString: mute.toString(), logger: silentLogger, connectTimeoutMs: 500 })).rejects.toThrow();
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(createPostgresStore({ connectionString: url, logger: silentLogger, schema: 'x; DROP TABLE y' })).rejects.toThrow(/schema name/);
  });
});
