import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { IssuedCardRow, SuppressedCardRow } from './analytics-store.js';

/** The statements the writer prepares on its own connection (named parameters, as the rows name them). */
export interface WriterStatements {
  readonly insertIssued: string;
  readonly markKnown: string;
  readonly insertSuppressed: string;
}

export interface SqliteWriterOptions {
  readonly file: string;
  readonly busyTimeoutMs: number;
  readonly statements: WriterStatements;
  /** Shortest time between two commits in ms; writes in between join the next transaction. Default {@link COMMIT_SPACING_MS}. */
  readonly commitSpacingMs?: number;
}

/** Writes issued and suppressed cards on a thread of its own; writes close together share one transaction. */
export interface SqliteWriter {
  /** Resolves once the transaction holding these rows is committed (`synchronous = FULL`); rejects with the database's error kind. */
  write(issued: readonly IssuedCardRow[], suppressed: readonly SuppressedCardRow[]): Promise<void>;
  /** Finishes the writes sent, then stops the thread and closes its connection. */
  close(): Promise<void>;
}

/**
 * The thread's program. It only prepares and runs the statements it is given, so the SQL has one
 * source (sqlite-store.ts); errors go back as class and code, never the message.
 */
const WRITER_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('synchronous = FULL');
const insertIssued = db.prepare(workerData.statements.insertIssued);
const markKnown = db.prepare(workerData.statements.markKnown);
const insertSuppressed = db.prepare(workerData.statements.insertSuppressed);
const write = db.transaction((issued, suppressed) => {
  for (const row of issued) {
    insertIssued.run(row);
    markKnown.run({ cardUuid: row.cardUuid, patientHash: row.patientHash, orderHash: row.orderHash, cardId: row.cardId });
  }
  for (const row of suppressed) insertSuppressed.run(row);
});
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    write.immediate(message.issued, message.suppressed);
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: { name: String(error && error.name), code: error && typeof error.code === 'string' ? error.code : undefined } });
  }
});
`;

const WriterReply = z.object({
  id: z.number().int(),
  error: z.object({ name: z.string(), code: z.string().optional() }).optional(),
});

/** A write the thread refused; carries the database's error class and code (e.g. `SQLITE_BUSY`). */
export class SqliteWriteError extends Error {
  override readonly name = 'SqliteWriteError';
  readonly code: string | undefined;
  constructor(kind: string, code: string | undefined) {
    super(`SQLite write failed (${kind}${code ? ` ${code}` : ''})`);
    this.code = code;
  }
}

/** Shortest time between two commits by default, in ms (see {@link SqliteWriterOptions.commitSpacingMs}). */
export const COMMIT_SPACING_MS = 15;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The rows of the next transaction and the writes waiting on it. */
interface OpenBatch {
  readonly issued: IssuedCardRow[];
  readonly suppressed: SuppressedCardRow[];
  readonly waiters: Waiter[];
}

/**
 * Starts the writer thread on the (already migrated) database file. The event loop no longer
 * waits on SQLite's fsync: a batch costs a message each way. Writes that arrive while a commit is
 * under way, or within the spacing after one, join one transaction: a commit with
 * `synchronous = FULL` costs an fsync (about 250 µs of CPU and some milliseconds here), so under
 * load many cards share one. The thread keeps the process up only while writes are pending.
 */
export function startSqliteWriter(options: SqliteWriterOptions): SqliteWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const spacingMs = options.commitSpacingMs ?? COMMIT_SPACING_MS;
  const worker = new Worker(WRITER_PROGRAM, {
    eval: true,
    workerData: { driver, file: options.file, busyTimeoutMs: Math.trunc(options.busyTimeoutMs), statements: options.statements },
  });
  worker.unref();
  /** The transaction sent to the thread and not yet answered. */
  let committing: { readonly id: number; readonly batch: OpenBatch } | undefined;
  let open: OpenBatch | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastCommitEnded = Number.NEGATIVE_INFINITY;
  let nextId = 0;
  let stopped: Error | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const settle = (batch: OpenBatch, error: Error | undefined): void => {
    for (const waiter of batch.waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  };

  /** Sends the open batch as one transaction. */
  const send = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const batch = open;
    if (!batch || committing || stopped) return;
    open = undefined;
    nextId += 1;
    committing = { id: nextId, batch };
    worker.postMessage({ id: nextId, issued: batch.issued, suppressed: batch.suppressed });
  };

  /** Sends the open batch once no commit is under way and the spacing since the last one has passed. */
  const schedule = (): void => {
    if (!open || committing || timer || stopped) return;
    const wait = lastCommitEnded + spacingMs - performance.now();
    if (wait <= 0) send();
    else timer = setTimeout(send, wait);
  };

  const failAll = (error: Error): void => {
    stopped ??= error;
    clearTimeout(timer);
    timer = undefined;
    const batches = [committing?.batch, open].filter((b): b is OpenBatch => b !== undefined);
    committing = undefined;
    open = undefined;
    for (const batch of batches) settle(batch, error);
    worker.unref();
  };
  worker.on('message', (message: unknown) => {
    const reply = WriterReply.safeParse(message);
    if (!reply.success || committing?.id !== reply.data.id) return;
    const { batch } = committing;
    committing = undefined;
    lastCommitEnded = performance.now();
    settle(batch, reply.data.error ? new SqliteWriteError(reply.data.error.name, reply.data.error.code) : undefined);
    if (open) schedule();
    else worker.unref();
  });
  worker.on('error', (error) => failAll(new SqliteWriteError(error.name, undefined)));
  worker.on('exit', () => failAll(new SqliteWriteError('writer stopped', undefined)));

  /** Resolves when nothing is waiting to be written (each write's own outcome is its caller's). */
  const drained = async (): Promise<void> => {
    while (open || committing) {
      const batch = committing?.batch ?? open;
      if (!batch) break;
      send();
      await new Promise<void>((resolve) => batch.waiters.push({ resolve, reject: () => resolve() }));
    }
  };

  return {
    write(issued, suppressed) {
      if (stopped) return Promise.reject(stopped);
      const batch = (open ??= { issued: [], suppressed: [], waiters: [] });
      batch.issued.push(...issued);
      batch.suppressed.push(...suppressed);
      const written = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
      worker.ref();
      schedule();
      return written;
    },

    async close() {
      if (stopped) return;
      await drained();
      worker.ref();
      worker.postMessage({ close: true });
      await exited;
    },
  };
}
