import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { projectRoot } from '../../../src/paths.js';
import { accepted, CSM, issuedCard, KNOWN_RANGE, overridden, PATIENT_HASH, createSqliteHarness } from './store-harness.js';

interface LockHolder {
  /** Resolves once the other process holds the write lock. */
  readonly locked: Promise<void>;
  /** Resolves once the other process committed. */
  readonly committed: Promise<void>;
  /** Tells the other process to commit (when started with `'on-request'`). */
  release(): void;
  /** Ends the other process if it is still running. */
  stop(): void;
}

/**
 * Another process that takes the write lock, inserts one issued card, and commits after `holdMs`
 * or when asked; it exits when its stdin closes, so it cannot outlive the test run.
 */
function holdWriteLock(file: string, release: { holdMs: number } | 'on-request'): LockHolder {
  const code = `
    import Database from 'better-sqlite3';
    const db = new Database(process.env.DB_FILE);
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    db.prepare(\`INSERT INTO issued_cards (card_uuid, card_id, knowledge_version, service_id, hook, hook_instance,
      indicator, issued_at, issued_day, patient_hash) VALUES ('from-other-process', 'other-card', 'v', 's', 'order-sign', 'h',
      'info', '2026-11-05T10:00:00.000Z', '2026-11-05', '${PATIENT_HASH}')\`).run();
    const commit = () => {
      db.exec('COMMIT');
      db.close();
      process.stdout.write('committed\\n', () => process.exit(0));
    };
    if (process.env.HOLD_MS === 'on-request') process.stdin.once('data', commit);
    else setTimeout(commit, Number(process.env.HOLD_MS));
    process.stdin.on('end', () => process.exit(1));
    process.stdout.write('locked\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: projectRoot(),
    env: { ...process.env, DB_FILE: file, HOLD_MS: release === 'on-request' ? release : String(release.holdMs), NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  const waiting: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    waiting.forEach((check) => check());
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const waitFor = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = pattern.exec(output);
        if (found) resolve(found);
      };
      waiting.push(check);
      check();
      void exited.then(() => {
        check();
        reject(new Error(`the other process ended without printing ${pattern.source}: ${output}`));
      });
    });
  const locked = waitFor(/locked/).then(() => undefined);
  const committed = waitFor(/committed/).then(() => undefined);
  // Awaited by the tests that need them; a process stopped early must not raise unhandled rejections.
  locked.catch(() => undefined);
  committed.catch(() => undefined);
  return {
    locked,
    committed,
    release: () => void child.stdin.write('commit\n'),
    stop: () => void (child.exitCode === null && child.kill()),
  };
}

const SqliteBusy = z.object({ code: z.literal('SQLITE_BUSY') });

/** True when another connection holds the write lock: one that does not wait cannot take it. */
function writeLockIsHeld(file: string): boolean {
  const probe = new Database(file);
  try {
    probe.pragma('busy_timeout = 0');
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
    return false;
  } catch (error) {
    // By its code, not instanceof: the native addon keeps the SqliteError class of the first test file that loaded it.
    if (SqliteBusy.safeParse(error).success) return true;
    throw error;
  } finally {
    probe.close();
  }
}

describe('SQLite analytics store', () => {
  let harness: ReturnType<typeof createSqliteHarness>;
  let others: LockHolder[];

  beforeEach(() => {
    harness = createSqliteHarness();
    others = [];
  });

  afterEach(async () => {
    for (const other of others) other.stop();
    await harness.cleanup();
  });

  it('creates <dataDir>/analytics.sqlite, folders included, in WAL mode', async () => {
    expect(existsSync(harness.dataDir)).toBe(false);
    await harness.open();
    expect(existsSync(harness.file)).toBe(true);
    // journal_mode is kept in the file; synchronous and busy_timeout are per connection (next test).
    const db = new Database(harness.file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('sets synchronous = FULL and busy_timeout on its connection', async () => {
    const pragmas: string[] = [];
    const original = Database.prototype.pragma;
    Database.prototype.pragma = function spy(this: Database.Database, source: string, options?: Database.PragmaOptions) {
      pragmas.push(source);
      return original.call(this, source, options);
    };
    try {
      await harness.open();
    } finally {
      Database.prototype.pragma = original;
    }
    expect(pragmas).toEqual(['busy_timeout = 5000', 'journal_mode = WAL', 'synchronous = FULL']);
  });

  it('shares one file between two store instances writing at once', async () => {
    const first = await harness.open();
    const second = await harness.open();
    await first.recordIssued([issuedCard('c-1', CSM, '2026-11-01T09:00:00Z')]);
    const items = Array.from({ length: 6 }, (_, i) => overridden('c-1', `2026-11-01T1${i}:00:00Z`));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? first : second).recordFeedback('svc', items.slice(i % 3, (i % 3) + 4), new Date())),
    );
    expect(results.reduce((sum, r) => sum + r.stored, 0)).toBe(6);
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(34);
    const [fromFirst, fromSecond] = await Promise.all([first.report(KNOWN_RANGE), second.report(KNOWN_RANGE)]);
    expect(fromSecond).toEqual(fromFirst);
    expect(fromFirst.cards[0]).toMatchObject({ cardId: CSM, issued: 1, overridden: 6 });
  });

  it('commits every card of writes sent close together, each write settled only once its rows are stored', async () => {
    const store = await harness.open();
    const writes = Array.from({ length: 60 }, (_, i) => store.recordIssued([issuedCard(`burst-${i}`, CSM, '2026-11-01T09:00:00Z')]));
    // Each write, once settled, is readable from another connection to the file.
    const settled = writes.map((write, i) =>
      write.then(() => {
        const db = new Database(harness.file, { readonly: true });
        try {
          return db.prepare('SELECT count(*) AS n FROM issued_cards WHERE card_uuid = ?').pluck().get(`burst-${i}`);
        } finally {
          db.close();
        }
      }),
    );
    expect(await Promise.all(settled)).toEqual(Array.from({ length: 60 }, () => 1));
    const report = await store.report(KNOWN_RANGE);
    expect(report.cards[0]).toMatchObject({ cardId: CSM, issued: 60 });
  });

  it('waits for another process holding the write lock, then writes', async () => {
    const store = await harness.open();
    const other = holdWriteLock(harness.file, { holdMs: 1000 });
    others.push(other);
    await other.locked;
    expect(writeLockIsHeld(harness.file)).toBe(true);
    // Without a busy timeout this write would fail with SQLITE_BUSY.
    await store.recordFeedback('svc', [accepted('from-other-process', '2026-11-05T11:00:00Z', ['s-1'])], new Date());
    await other.committed;
    // The feedback found the card the other process inserted: it was written after that commit.
    expect(await harness.knownFlags('from-other-process')).toEqual([true]);
    const report = await store.report(KNOWN_RANGE);
    expect(report.cards.map((c) => [c.cardId, c.issued, c.accepted])).toEqual([['other-card', 1, 1]]);
  });
});
