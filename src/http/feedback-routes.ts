import { Router, type RequestHandler } from 'express';
import { FeedbackRequest } from '../cds/feedback-schema.js';
import { CdsError } from '../errors.js';
import { errorKind } from '../logger.js';
import type { Logger } from '../logger.js';
import { jsonBody, problemsFrom, requireJson } from './json-body.js';
import type { Metrics } from '../ops/types.js';
import type { AnalyticsStore } from '../store/analytics-store.js';
import { factsOf } from './request-facts.js';

export interface FeedbackRouterDeps {
  readonly store: Pick<AnalyticsStore, 'recordFeedback'>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Ids of the services in discovery; feedback for any other id is 404 UNKNOWN_SERVICE. */
  readonly knownServiceIds: ReadonlySet<string>;
  /** Largest JSON body accepted (413 PAYLOAD_TOO_LARGE beyond); normally `config.bodyLimitBytes`. */
  readonly bodyLimitBytes: number;
  /** Clock for `receivedAt`; injected by tests. */
  readonly now?: () => Date;
}

/** Seconds an EHR is asked to wait before resending feedback the store could not take. */
const RETRY_AFTER_SECONDS = '30';

/**
 * `POST /cds-services/{id}/feedback`: stores what users did with our cards.
 *
 * Parses its own JSON body (415 unless declared JSON; body-parser errors go to the error handler);
 * the caller is authenticated before this router. Other methods on the path get 405. Answers 200 with `{"stored": n, "duplicates": m}` (the spec defines no response body; EHRs
 * ignore it): `stored` items are new, `duplicates` were stored before (same card, outcome and
 * outcomeTimestamp), so an EHR may resend safely. Feedback for a card uuid we never issued is
 * stored and marked unknown, not refused. Errors go to the app's error handler as `CdsError`:
 * 404 UNKNOWN_SERVICE, 400 INVALID_REQUEST (paths and messages only, no values), and
 * 503 STORE_UNAVAILABLE with `Retry-After` when the store fails, so the EHR retries.
 *
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */
export function createFeedbackRouter(deps: FeedbackRouterDeps): Router {
  const now = deps.now ?? (() => new Date());
  const router = Router();

  const knownService: RequestHandler<{ id: string }> = (req, res, next) => {
    factsOf(res).route = 'feedback';
    next(deps.knownServiceIds.has(req.params.id) ? undefined : new CdsError('UNKNOWN_SERVICE'));
  };
  const parseJson = jsonBody(deps.bodyLimitBytes);

  const route = router.route('/cds-services/:id/feedback');
  route.post(knownService, requireJson, parseJson, async (req, res) => {
    const serviceId = req.params.id;
    const parsed = FeedbackRequest.safeParse(req.body);
    if (!parsed.success) throw new CdsError('INVALID_REQUEST', problemsFrom(parsed.error.issues));
    const items = parsed.data.feedback;

    let result;
    try {
      result = await deps.store.recordFeedback(serviceId, items, now());
    } catch (error) {
      deps.logger.error({ err: errorKind(error), serviceId, items: items.length }, 'feedback not stored: analytics store failed');
      throw new CdsError('STORE_UNAVAILABLE', [], { 'Retry-After': RETRY_AFTER_SECONDS });
    }

    for (const item of items) deps.metrics?.countFeedback({ outcome: item.outcome });
    deps.logger.info({ serviceId, stored: result.stored, duplicates: result.duplicates }, 'feedback recorded');
    res.status(200).json({ stored: result.stored, duplicates: result.duplicates });
  });
  route.all((_req, _res, next) => next(new CdsError('METHOD_NOT_ALLOWED', [], { Allow: 'POST, OPTIONS' })));

  return router;
}
