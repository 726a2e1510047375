import { Router } from 'express';
import { CdsError } from '../errors.js';
import { errorKind, type Logger } from '../logger.js';
import type { AnalyticsStore } from '../store/analytics-store.js';
import { parseReportRange } from '../store/report.js';
import { describeReport, type CardDescription, type DescribedReport } from '../store/describe-report.js';
import { renderAnalyticsPage } from './analytics-page.js';

export interface AnalyticsRouterDeps {
  readonly store: Pick<AnalyticsStore, 'report'>;
  readonly logger: Logger;
  /** Titles, indicators and offered override reasons per card id (`describeCards(knowledge)`). */
  readonly cards: ReadonlyMap<string, CardDescription>;
  /** Clock for the default range; injected by tests. */
  readonly now?: () => Date;
}

/** The page allows its inline styles and nothing else: no scripts, no outside resources. */
const PAGE_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Card analytics built from issued cards and CDS Hooks feedback:
 * - `GET /analytics/cards?from=YYYY-MM-DD&to=YYYY-MM-DD`: the report as JSON (`AnalyticsReport`);
 * - `GET /analytics?from=…&to=…`: the same as an HTML page with override-rate charts.
 *
 * Days are UTC and inclusive; `to` defaults to today, `from` to 29 days before `to`; a range
 * must not be reversed nor longer than 366 days (400 INVALID_REQUEST). A failing store gives
 * 503 STORE_UNAVAILABLE. No authentication here: mount behind whatever guards internal pages.
 *
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */
export function createAnalyticsRouter(deps: AnalyticsRouterDeps): Router {
  const now = deps.now ?? (() => new Date());
  const router = Router();

  async function reportFor(query: { from?: unknown; to?: unknown }): Promise<DescribedReport> {
    const parsed = parseReportRange({ from: query.from, to: query.to }, now());
    if (!parsed.ok) throw new CdsError('INVALID_REQUEST', parsed.problems);
    try {
      return describeReport(await deps.store.report(parsed.range), deps.cards);
    } catch (error) {
      deps.logger.error({ err: errorKind(error) }, 'analytics report failed: analytics store failed');
      throw new CdsError('STORE_UNAVAILABLE');
    }
  }

  router.get('/analytics/cards', async (req, res) => {
    const report = await reportFor(req.query);
    res.set('Cache-Control', 'no-store').status(200).json(report);
  });

  router.get('/analytics', async (req, res) => {
    const report = await reportFor(req.query);
    res
      .set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': PAGE_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' })
      .type('html')
      .status(200)
      .send(renderAnalyticsPage(report, `${req.baseUrl}/analytics/cards`));
  });

  return router;
}
