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
}

/** Writes issued and suppressed cards on a thread of its own, one transaction per batch. */
export interface SqliteWriter {
  /** Resolves once the batch is committed (`synchronous = FULL`); rejects with the database's error kind. */
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

/**
 * Starts the writer thread on the (already migrated) database file. The event loop no longer
 * waits on SQLite's fsync: a batch costs a message each way. The thread keeps the process up only
 * while writes are pending.
 */
export function startSqliteWriter(options: SqliteWriterOptions): SqliteWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WRITER_PROGRAM, {
    eval: true,
    workerData: { driver, file: options.file, busyTimeoutMs: Math.trunc(options.busyTimeoutMs), statements: options.statements },
  });
  worker.unref();
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const inFlight = new Set<Promise<void>>();
  let nextId = 0;
  let stopped: Error | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const failAll = (error: Error): void => {
    stopped ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    worker.unref();
  };
  worker.on('message', (message: unknown) => {
    const reply = WriterReply.safeParse(message);
    if (!reply.success) return;
    const waiter = pending.get(reply.data.id);
    if (!waiter) return;
    pending.delete(reply.data.id);
    if (pending.size === 0) worker.unref();
    if (reply.data.error) waiter.reject(new SqliteWriteError(reply.data.error.name, reply.data.error.code));
    else waiter.resolve();
  });
  worker.on('error', (error) => failAll(new SqliteWriteError(error.name, undefined)));
  worker.on('exit', () => failAll(new SqliteWriteError('writer stopped', undefined)));

  return {
    write(issued, suppressed) {
      if (stopped) return Promise.reject(stopped);
      nextId += 1;
      const id = nextId;
      const written = new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, issued, suppressed });
      });
      inFlight.add(written);
      const forget = (): void => void inFlight.delete(written);
      written.then(forget, forget);
      return written;
    },

    async close() {
      if (stopped) return;
      await Promise.allSettled(inFlight);
      worker.ref();
      worker.postMessage({ close: true });
      await exited;
    },
  };
}
