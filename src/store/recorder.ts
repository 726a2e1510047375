import { errorKind, type Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import { isStorableIssuedCard, isStorableSuppressedCard, UnstorableCardError } from './analytics-store.js';
import type { CardRecorder, IssuedCard, SuppressedCard } from './types.js';

/** One queued write: a card shown, or a card held back. */
type Entry = { readonly kind: 'issued'; readonly card: IssuedCard } | { readonly kind: 'suppressed'; readonly card: SuppressedCard };

export interface CardRecorderOptions {
  /**
   * Most cards held in memory while the store is failing. Cards that would exceed it are not
   * queued: they are counted with `countUnrecordedCards` and logged. Default 10 000 (a few MB).
   */
  readonly maxQueuedCards?: number;
  /** Cards written per store call. Default 500. */
  readonly batchSize?: number;
  /** Wait before the first retry; doubled after each further failure. Default 1 s. */
  readonly retryDelayMs?: number;
  /** Longest wait between retries. Default 30 s. */
  readonly maxRetryDelayMs?: number;
  /** A store call not settled after this long counts as failed (and is retried; writes are idempotent). Default 20 s. */
  readonly writeTimeoutMs?: number;
  /** How long `close()` keeps trying to write what is queued. Default 5 s. */
  readonly closeTimeoutMs?: number;
}

/** A `CardRecorder` that never throws and never holds up the card response. */
export interface QueuedCardRecorder extends CardRecorder {
  /** Returns at once; the cards are written in the background. */
  recordIssued(cards: readonly IssuedCard[]): Promise<void>;
  /** Returns at once; the held-back cards are written in the background. */
  recordSuppressed(cards: readonly SuppressedCard[]): Promise<void>;
  /** Cards waiting to be written. */
  pending(): number;
  /** Writes what is queued now; resolves when the queue is empty or a write failed (a retry is then scheduled). */
  flush(): Promise<void>;
  /** Stops retrying after a last attempt; cards still queued are counted as unrecorded and logged. */
  close(): Promise<void>;
}

const MAX_LOGGED_CARD_IDS = 20;

/**
 * Wraps the store so that recording issued cards is fire-and-forget: writes happen after the
 * response, failed writes stay in a bounded in-memory queue and are retried with backoff, so a
 * brief store outage loses nothing. Cards are lost only past the bound, at shutdown while the
 * store is still down, or when a card is malformed; each loss is logged (count and card ids, never
 * patient data) and counted with `metrics.countUnrecordedCards`.
 */
export function createCardRecorder(
  store: CardRecorder,
  logger: Logger,
  metrics?: Metrics,
  options: CardRecorderOptions = {},
): QueuedCardRecorder {
  const maxQueued = options.maxQueuedCards ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  const writeTimeoutMs = options.writeTimeoutMs ?? 20_000;

  const queue: Entry[] = [];
  let draining: Promise<void> | undefined;
  let cancelScheduled: (() => void) | undefined;
  let failures = 0;
  let closed = false;

  function lose(cards: readonly Entry[], reason: string): void {
    if (cards.length === 0) return;
    try {
      metrics?.countUnrecordedCards(cards.length);
      logger.error({ unrecorded: cards.length, cardIds: cardIdsOf(cards), reason }, 'issued cards not recorded for analytics');
    } catch {
      // Reporting a loss must not turn into a failure of the caller.
    }
  }

  /** Runs a drain later: on the next turn of the event loop (after the response) or after a retry delay. */
  function schedule(delayMs: number): void {
    if (cancelScheduled !== undefined || closed) return;
    const run = (): void => {
      cancelScheduled = undefined;
      void drain();
    };
    if (delayMs === 0) {
      const immediate = setImmediate(run).unref();
      cancelScheduled = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(run, delayMs).unref();
      cancelScheduled = () => clearTimeout(timer);
    }
  }

  function unschedule(): void {
    cancelScheduled?.();
    cancelScheduled = undefined;
  }

  function drain(): Promise<void> {
    draining ??= writeQueued().finally(() => {
      draining = undefined;
      if (queue.length > 0 && failures === 0) schedule(0);
    });
    return draining;
  }

  async function writeQueued(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      try {
        await withTimeout(writeBatch(batch), writeTimeoutMs);
      } catch (error) {
        if (error instanceof UnstorableCardError) {
          queue.splice(0, batch.length);
          lose(batch, 'unstorable');
          continue;
        }
        failures += 1;
        const delay = Math.min(retryDelayMs * 2 ** (failures - 1), maxRetryDelayMs);
        logger.warn(
          { err: error instanceof StoreTimeoutError ? { name: error.name, reason: error.message } : errorKind(error), queued: queue.length, cardIds: cardIdsOf(batch), failures, retryInMs: delay },
          'analytics store write failed; issued cards kept for retry',
        );
        schedule(delay);
        return;
      }
      queue.splice(0, batch.length);
      if (failures > 0) {
        logger.info({ failures }, 'analytics store writes recovered');
        failures = 0;
      }
    }
  }

  async function writeBatch(batch: readonly Entry[]): Promise<void> {
    const issued: IssuedCard[] = [];
    const suppressed: SuppressedCard[] = [];
    for (const entry of batch) {
      if (entry.kind === 'issued') issued.push(entry.card);
      else suppressed.push(entry.card);
    }
    // Both writes are idempotent, so a batch retried after a partial failure is kept once.
    if (issued.length > 0) await store.recordIssued(issued);
    if (suppressed.length > 0) await store.recordSuppressed(suppressed);
  }

  /** Queues the storable entries while there is room; returns those it could not keep. */
  function admit(entries: readonly Entry[]): { readonly malformed: Entry[]; readonly overflow: Entry[] } {
    const malformed: Entry[] = [];
    const overflow: Entry[] = [];
    for (const entry of entries) {
      const ok = entry.kind === 'issued' ? isStorableIssuedCard(entry.card) : isStorableSuppressedCard(entry.card);
      if (!ok) malformed.push(entry);
      else if (closed || queue.length >= maxQueued) overflow.push(entry);
      else queue.push(entry);
    }
    return { malformed, overflow };
  }

  function enqueue(entries: readonly Entry[]): void {
    try {
      const { malformed, overflow } = admit(entries);
      lose(malformed, 'malformed');
      lose(overflow, closed ? 'recorder closed' : 'retry queue full');
      if (!closed && failures === 0) schedule(0);
    } catch (error) {
      try {
        logger.error({ err: errorKind(error) }, 'recording issued cards failed');
      } catch {
        // Nothing more can be done without throwing at the card response.
      }
    }
  }

  return {
    recordIssued(cards: readonly IssuedCard[]): Promise<void> {
      enqueue(cards.map((card) => ({ kind: 'issued', card })));
      return Promise.resolve();
    },

    recordSuppressed(cards: readonly SuppressedCard[]): Promise<void> {
      enqueue(cards.map((card) => ({ kind: 'suppressed', card })));
      return Promise.resolve();
    },

    pending: () => queue.length,

    async flush(): Promise<void> {
      unschedule();
      await drain();
    },

    async close(): Promise<void> {
      unschedule();
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, closeTimeoutMs);
        timer.unref();
      });
      await Promise.race([queue.length > 0 ? drain() : Promise.resolve(), timeout]);
      clearTimeout(timer);
      lose(queue.splice(0), 'shutdown while the store was failing');
    },
  };
}

/** Rejects if `work` has not settled in time, so a hung store call cannot stall the queue for good. */
async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(ms)), ms);
    timer.unref();
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function cardIdsOf(entries: readonly Entry[]): string[] {
  return [...new Set(entries.map((entry) => entry.card.cardId))].sort().slice(0, MAX_LOGGED_CARD_IDS);
}

/** The recorder's own time limit on a store call; its message is ours, so it may be logged. */
class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
  constructor(ms: number) {
    super(`analytics store did not answer within ${ms} ms`);
  }
}
