import { Router, type Response } from 'express';
import type { MetricsSource } from '../ops/cluster-metrics.js';
import { methodNotAllowed } from './cds-routes.js';
import { factsOf } from './request-facts.js';

/** Result of the readiness checks, by check name. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Record<string, 'ok' | 'fail'>;
}

export interface OpsRouteDeps {
  /** What `/metrics` renders: `createMetrics().registry`, or with several workers the group's (`groupMetricsSource`). */
  readonly registry: MetricsSource;
  /** Whether the service can answer now: knowledge loaded, store reachable. */
  readonly readiness: () => Promise<Readiness>;
  /** A readiness check that has not answered by then counts as failed. Default 2000 ms. */
  readonly readinessTimeoutMs?: number;
}

function noStore(res: Response, route: string): void {
  factsOf(res).route = route;
  res.setHeader('Cache-Control', 'no-store');
}

/** The readiness result, or a failed `readiness` check when it throws or hangs. */
async function checkReadiness(readiness: () => Promise<Readiness>, timeoutMs: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, checks: { readiness: 'fail' } }), timeoutMs);
  });
  try {
    return await Promise.race([readiness(), timedOut]);
  } catch {
    return { ready: false, checks: { readiness: 'fail' } };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes and metrics, mounted without caller authentication (they expose no patient data):
 * `GET /healthz` (the process answers), `GET /readyz` (200 when ready, else 503 with the failing
 * checks) and `GET /metrics` (Prometheus text exposition format 0.0.4).
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export function createOpsRouter(deps: OpsRouteDeps): Router {
  const router = Router();
  const timeoutMs = deps.readinessTimeoutMs ?? 2000;

  router
    .route('/healthz')
    .get((_req, res) => {
      noStore(res, 'healthz');
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/readyz')
    .get(async (_req, res) => {
      noStore(res, 'readyz');
      const result = await checkReadiness(deps.readiness, timeoutMs);
      if (result.ready) {
        res.json({ status: 'ready', checks: result.checks });
        return;
      }
      const failing = Object.fromEntries(Object.entries(result.checks).filter(([, outcome]) => outcome === 'fail'));
      // A probe answer, not a client error: orchestrators read the status, operators the checks.
      res.status(503).json({ status: 'not-ready', checks: Object.keys(failing).length > 0 ? failing : result.checks });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/metrics')
    .get(async (_req, res) => {
      noStore(res, 'metrics');
      const body = await deps.registry.metrics();
      res.setHeader('Content-Type', deps.registry.contentType);
      res.send(body);
    })
    .all(methodNotAllowed('GET, HEAD'));

  return router;
}
