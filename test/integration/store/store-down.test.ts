import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import { createCardRecorder } from '../../../src/store/recorder.js';
import type { IssuedCard } from '../../../src/store/types.js';
import { recordingMetrics } from './http-harness.js';
import { capturingLogger, createSqliteHarness, CSM, issuedCard, KNOWN_RANGE } from './store-harness.js';
import { eventually } from '../../helpers/eventually.js';

describe('issued-card recording while the store is down', () => {
  let harness: ReturnType<typeof createSqliteHarness>;
  let store: AnalyticsStore;

  beforeEach(async () => {
    harness = createSqliteHarness();
    store = await harness.open();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('never throws and counts the cards it could not record when the store stays down', async () => {
    await store.close();
    const metrics = recordingMetrics();
    const { logger, records } = capturingLogger();
    const recorder = createCardRecorder(store, logger, metrics, { retryDelayMs: 10_000, closeTimeoutMs: 200 });
    await expect(recorder.recordIssued([issuedCard('c-1', CSM, '2026-11-01T10:00:00Z'), issuedCard('c-2', CSM, '2026-11-01T10:00:00Z')])).resolves.toBeUndefined();
    await recorder.flush();
    expect(recorder.pending()).toBe(2);
    await recorder.close();
    expect(metrics.unrecorded).toEqual([2]);
    expect(records().find((record) => record['msg'] === 'issued cards not recorded for analytics')).toMatchObject({
      level: 50,
      unrecorded: 2,
      cardIds: [CSM],
    });
  });

  it('loses nothing across a brief outage', async () => {
    let down = true;
    const flaky: Pick<AnalyticsStore, 'recordIssued' | 'recordSuppressed'> = {
      recordIssued: (cards: readonly IssuedCard[]) => (down ? Promise.reject(new Error('database restarting')) : store.recordIssued(cards)),
      recordSuppressed: async () => undefined,
    };
    const metrics = recordingMetrics();
    const recorder = createCardRecorder(flaky, capturingLogger().logger, metrics, { retryDelayMs: 20 });
    for (let i = 0; i < 5; i += 1) void recorder.recordIssued([issuedCard(`c-${i}`, CSM, '2026-11-01T10:00:00Z')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(recorder.pending()).toBe(5);
    down = false;
    await eventually(() => recorder.pending() === 0);
    expect((await store.report(KNOWN_RANGE)).cards[0]).toMatchObject({ cardId: CSM, issued: 5 });
    expect(metrics.unrecorded).toEqual([]);
    await recorder.close();
  });
});
