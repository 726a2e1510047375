import type { FeedbackItem } from '../cds/feedback-schema.js';
import { errorKind, type Logger } from '../logger.js';
import type { AnalyticsStore, FeedbackWriteResult } from './analytics-store.js';
import type { AnalyticsReport, ReportRange } from './report.js';
import type { DecisionKey, HistoryWindow, IssuedCard, PastShowingsAnswer, SuppressedCard } from './types.js';

export class StoreNotOpenError extends Error {
  override readonly name = 'StoreNotOpenError';
  constructor() {
    super('analytics store is not open yet');
  }
}

/**
 * A store that keeps trying to open its database in the background. Until it is open every call
 * rejects (feedback answers 503, the recorder keeps cards queued, readiness fails), so the
 * service starts and returns cards even when the database is down at start-up.
 */
export function createResilientStore(open: () => Promise<AnalyticsStore>, logger: Logger, retryMs = 5000): AnalyticsStore {
  let store: AnalyticsStore | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (): Promise<void> => {
    try {
      const opened = await open();
      if (closed) {
        await opened.close();
        return;
      }
      store = opened;
      logger.info('analytics store open');
    } catch (error) {
      logger.error({ err: errorKind(error), retryMs }, 'analytics store unavailable; retrying');
      if (!closed) {
        timer = setTimeout(() => void attempt(), retryMs);
        timer.unref();
      }
    }
  };
  const ready = attempt();
  const current = (): AnalyticsStore => {
    if (!store) throw new StoreNotOpenError();
    return store;
  };
  return {
    recordIssued: async (cards: readonly IssuedCard[]) => current().recordIssued(cards),
    recordSuppressed: async (cards: readonly SuppressedCard[]) => current().recordSuppressed(cards),
    // Not async: an answer the store gives on this thread is passed on as it is (no budget timer), and
    // a store not open yet throws here, which the caller counts as a miss like a rejection.
    pastDecisions: (patientHash: string, keys: readonly DecisionKey[], window: HistoryWindow): PastShowingsAnswer =>
      current().pastDecisions(patientHash, keys, window),
    recordFeedback: async (serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<FeedbackWriteResult> =>
      current().recordFeedback(serviceId, items, receivedAt),
    report: async (range: ReportRange): Promise<AnalyticsReport> => current().report(range),
    claimToken: async (tokenKey: string, forgetAfter: Date, now: Date) => current().claimToken(tokenKey, forgetAfter, now),
    ping: async () => current().ping(),
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await ready;
      await store?.close();
    },
  };
}
