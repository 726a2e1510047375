import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../src/logger.js';
import type { AnalyticsStore } from '../../../src/store/analytics-store.js';
import { createResilientStore, StoreNotOpenError } from '../../../src/store/resilient-store.js';
import { eventually } from '../../helpers/eventually.js';

const logger = createLogger('silent');

function fakeStore(): AnalyticsStore & { closed: boolean } {
  const store: AnalyticsStore & { closed: boolean } = {
    closed: false,
    recordIssued: async () => undefined,
    recordSuppressed: async () => undefined,
    pastDecisions: async () => [],
    claimToken: async () => true,
    recordFeedback: async () => ({ stored: 1, duplicates: 0 }),
    report: async () => ({ from: '2026-11-01', to: '2026-11-01', cards: [], unknownCardFeedback: { accepted: 0, overridden: 0, total: 0 } }),
    ping: async () => undefined,
    close: async () => {
      store.closed = true;
    },
  };
  return store;
}

describe('a store that opens in the background', () => {
  it('rejects calls until the database opens, retries, then delegates', async () => {
    const inner = fakeStore();
    let attempts = 0;
    const store = createResilientStore(
      async () => {
        attempts += 1;
        if (attempts < 3) throw new Error('connection refused');
        return inner;
      },
      logger,
      10,
    );
    await expect(store.ping()).rejects.toBeInstanceOf(StoreNotOpenError);
    await expect(store.recordFeedback('svc', [], new Date())).rejects.toBeInstanceOf(StoreNotOpenError);
    await eventually(() => attempts >= 3);
    await expect(store.ping()).resolves.toBeUndefined();
    await expect(store.recordFeedback('svc', [], new Date())).resolves.toEqual({ stored: 1, duplicates: 0 });
    await store.close();
    expect(inner.closed).toBe(true);
  });

  it('stops retrying once closed', async () => {
    let attempts = 0;
    const store = createResilientStore(
      async () => {
        attempts += 1;
        throw new Error('connection refused');
      },
      logger,
      10,
    );
    await store.close();
    const after = attempts;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(attempts).toBe(after);
  });
});
