import express, { type Express, type Router } from 'express';
import { createErrorHandler } from '../../../src/http/error-handler.js';
import type { Logger } from '../../../src/logger.js';
import type { Metrics } from '../../../src/ops/types.js';

/** The routers under test behind the service's own error handler, as the app mounts them. */
export function appWith(routers: readonly Router[], logger: Logger): Express {
  const app = express();
  app.set('query parser', 'simple');
  for (const router of routers) app.use(router);
  app.use(createErrorHandler(logger));
  return app;
}

/** Metrics that remember what they were told. */
export function recordingMetrics(): Metrics & { feedback: string[]; unrecorded: number[] } {
  const feedback: string[] = [];
  const unrecorded: number[] = [];
  return {
    feedback,
    unrecorded,
    observeRequest: () => undefined,
    countCard: () => undefined,
    countPrefetch: () => undefined,
    countPrefetchParse: () => undefined,
    observeFhirCall: () => undefined,
    countUnrecordedCards: (count) => void unrecorded.push(count),
    countFeedback: ({ outcome }) => void feedback.push(outcome),
    countSuppressed: () => undefined,
    countHistoryMiss: () => undefined,
  };
}
