import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { createLogger } from '../../../src/logger.js';
import type { Metrics } from '../../../src/ops/types.js';
import { createCardRecorder } from '../../../src/store/recorder.js';
import type { CardRecorder, IssuedCard } from '../../../src/store/types.js';
import { eventually } from '../../helpers/eventually.js';

const HASH = 'b'.repeat(64);

function card(n: number, cardId = 'cervical-stenosis-massage'): IssuedCard {
  return {
    cardUuid: `uuid-${n}`,
    cardId,
    knowledgeVersion: 'v1',
    serviceId: 'svc',
    hook: 'order-sign',
    hookInstance: 'hi',
    indicator: 'critical',
    issuedAt: '2026-11-01T10:00:00Z',
    patientHash: HASH,
  };
}

type Mode = 'ok' | 'reject' | 'throw' | 'hang';

function fakeStore(initial: Mode = 'ok'): CardRecorder & { mode: Mode; calls: number; written: IssuedCard[][] } {
  const written: IssuedCard[][] = [];
  const store = {
    mode: initial,
    calls: 0,
    written,
    recordIssued(cards: readonly IssuedCard[]): Promise<void> {
      store.calls += 1;
      if (store.mode === 'throw') throw new Error('store threw');
      if (store.mode === 'reject') return Promise.reject(new Error('store down'));
      if (store.mode === 'hang') return new Promise<void>(() => undefined);
      store.written.push([...cards]);
      return Promise.resolve();
    },
    recordSuppressed: () => Promise.resolve(),
  };
  return store;
}

function observed(): { logger: ReturnType<typeof createLogger>; lines: string[]; metrics: Metrics & { unrecorded: number[] } } {
  const lines: string[] = [];
  const unrecorded: number[] = [];
  return {
    logger: createLogger('debug', { write: (line: string) => void lines.push(line) }),
    lines,
    metrics: {
      unrecorded,
      observeRequest: () => undefined,
      countCard: () => undefined,
      countPrefetch: () => undefined,
      countPrefetchParse: () => undefined,
      observeFhirCall: () => undefined,
      countUnrecordedCards: (count: number) => void unrecorded.push(count),
      countFeedback: () => undefined,
      countSuppressed: () => undefined,
      countHistoryMiss: () => undefined,
    },
  };
}

const LogRecord = z.record(z.string(), z.unknown());

/** The first log record whose line contains `text`. */
function recordWith(lines: readonly string[], text: string): Record<string, unknown> {
  const line = lines.find((candidate) => candidate.includes(text));
  if (line === undefined) throw new Error(`no log line with ${text}`);
  return LogRecord.parse(JSON.parse(line));
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('createCardRecorder', () => {
  it('returns before the store is called and does not wait for it', async () => {
    const store = fakeStore('hang');
    const { logger, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { closeTimeoutMs: 20 });
    await expect(recorder.recordIssued([card(1), card(2)])).resolves.toBeUndefined();
    expect(store.calls).toBe(0);
    await nextTurn();
    expect(store.calls).toBe(1);
    await recorder.close();
    expect(metrics.unrecorded).toEqual([2]);
  });

  it('writes cards in the background, in order and in batches', async () => {
    const store = fakeStore();
    const { logger, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { batchSize: 2 });
    void recorder.recordIssued([card(1), card(2), card(3)]);
    void recorder.recordIssued([card(4)]);
    await eventually(() => recorder.pending() === 0);
    expect(store.written.map((batch) => batch.map((c) => c.cardUuid))).toEqual([['uuid-1', 'uuid-2'], ['uuid-3', 'uuid-4']]);
    expect(metrics.unrecorded).toEqual([]);
  });

  it('keeps cards through a brief store outage and writes them once it is back, losing nothing', async () => {
    const store = fakeStore('reject');
    const { logger, lines, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { retryDelayMs: 10 });
    void recorder.recordIssued([card(1), card(2, 'cord-compression-manipulation')]);
    await eventually(() => store.calls >= 2);
    expect(recorder.pending()).toBe(2);
    expect(recordWith(lines, 'kept for retry')['cardIds']).toEqual(['cervical-stenosis-massage', 'cord-compression-manipulation']);
    expect(lines.join('')).not.toContain(HASH);

    store.mode = 'ok';
    await eventually(() => recorder.pending() === 0);
    expect(store.written.flat().map((c) => c.cardUuid)).toEqual(['uuid-1', 'uuid-2']);
    expect(metrics.unrecorded).toEqual([]);
    expect(lines.some((line) => line.includes('recovered'))).toBe(true);
  });

  it('backs off between retries, doubling the wait up to the maximum', async () => {
    const store = fakeStore('reject');
    const { logger, lines, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { retryDelayMs: 5, maxRetryDelayMs: 20 });
    void recorder.recordIssued([card(1)]);
    await eventually(() => store.calls >= 5);
    const waits = lines.filter((line) => line.includes('kept for retry')).map((line) => LogRecord.parse(JSON.parse(line))['retryInMs']);
    expect(waits.slice(0, 5)).toEqual([5, 10, 20, 20, 20]);
    await recorder.close();
  });

  it('gives up on a store call that never settles and retries it', async () => {
    const store = fakeStore('hang');
    const { logger, lines, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { writeTimeoutMs: 20, retryDelayMs: 5 });
    void recorder.recordIssued([card(1)]);
    await eventually(() => store.calls >= 2);
    expect(lines.some((line) => line.includes('did not answer within 20 ms'))).toBe(true);
    store.mode = 'ok';
    await eventually(() => recorder.pending() === 0);
    expect(store.written.flat().map((c) => c.cardUuid)).toEqual(['uuid-1']);
    expect(metrics.unrecorded).toEqual([]);
  });

  it('never throws at the caller, even when the store throws synchronously', async () => {
    const store = fakeStore('throw');
    const { logger, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { retryDelayMs: 10_000 });
    let result: Promise<void> | undefined;
    expect(() => {
      result = recorder.recordIssued([card(1)]);
    }).not.toThrow();
    await expect(result).resolves.toBeUndefined();
    await recorder.flush();
    expect(recorder.pending()).toBe(1);
    await recorder.close();
  });

  it('counts and logs, with card ids only, the cards beyond its bound', async () => {
    const store = fakeStore('reject');
    const { logger, lines, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { maxQueuedCards: 3, retryDelayMs: 10_000 });
    void recorder.recordIssued([card(1), card(2), card(3), card(4, 'other-card'), card(5, 'other-card')]);
    expect(recorder.pending()).toBe(3);
    expect(metrics.unrecorded).toEqual([2]);
    expect(recordWith(lines, 'not recorded')).toMatchObject({ unrecorded: 2, cardIds: ['other-card'], reason: 'retry queue full' });
    expect(lines.join('')).not.toContain(HASH);
    await recorder.close();
    expect(metrics.unrecorded).toEqual([2, 3]);
  });

  it('drops a card carrying anything but a hex patient hash, without passing it to the store or the logs', async () => {
    const store = fakeStore();
    const { logger, lines, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics);
    void recorder.recordIssued([{ ...card(1), patientHash: 'Patient/secret-123' }, card(2)]);
    await eventually(() => recorder.pending() === 0 && store.calls === 1);
    expect(store.written.flat().map((c) => c.cardUuid)).toEqual(['uuid-2']);
    expect(metrics.unrecorded).toEqual([1]);
    expect(lines.join('')).not.toContain('secret-123');
  });

  it('counts what is still queued when closed while the store is down, and whatever arrives after', async () => {
    const store = fakeStore('reject');
    const { logger, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { retryDelayMs: 10_000, closeTimeoutMs: 100 });
    void recorder.recordIssued([card(1), card(2)]);
    await eventually(() => store.calls === 1);
    await recorder.close();
    expect(recorder.pending()).toBe(0);
    expect(metrics.unrecorded).toEqual([2]);
    await recorder.recordIssued([card(3)]);
    expect(metrics.unrecorded).toEqual([2, 1]);
  });

  it('writes what is queued when closed with the store up', async () => {
    const store = fakeStore('reject');
    const { logger, metrics } = observed();
    const recorder = createCardRecorder(store, logger, metrics, { retryDelayMs: 10_000 });
    void recorder.recordIssued([card(1)]);
    await eventually(() => store.calls === 1);
    store.mode = 'ok';
    await recorder.close();
    expect(store.written.flat().map((c) => c.cardUuid)).toEqual(['uuid-1']);
    expect(metrics.unrecorded).toEqual([]);
  });

  it('works without metrics', async () => {
    const store = fakeStore('reject');
    const { logger } = observed();
    const recorder = createCardRecorder(store, logger, undefined, { maxQueuedCards: 1, retryDelayMs: 10_000 });
    await expect(recorder.recordIssued([card(1), card(2)])).resolves.toBeUndefined();
    await recorder.close();
  });
});
