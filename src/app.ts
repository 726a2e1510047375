import express, { type Express, type Router } from 'express';
import type { Config } from './config.js';
import { CdsError } from './errors.js';
import { createGatewayFromConfig } from './fhir/create-gateway.js';
import { callIds } from './hooks/call-ids.js';
import { createSayItOnce, HISTORY_BUDGET_MS } from './hooks/say-it-once.js';
import type { FhirGateway } from './fhir/gateway.js';
import { createAnalyticsAccess } from './http/analytics-access.js';
import { createAuthMiddleware } from './http/authenticate.js';
import { createBrowserRouter } from './http/browser-routes.js';
import { mountCdsRoutes } from './http/cds-routes.js';
import { createCorsMiddleware } from './http/cors.js';
import { createPrefetchCache, type PrefetchCache } from './http/prefetch-cache.js';
import { createErrorHandler } from './http/error-handler.js';
import { createFhirRouter } from './http/fhir-routes.js';
import { createRationaleRouter } from './http/rationale-routes.js';
import { createRequestLog } from './http/request-log.js';
import type { Knowledge } from './knowledge/load-knowledge.js';
import type { Logger } from './logger.js';
import type { Metrics } from './ops/types.js';
import { createFhirServerPolicy } from './security/fhir-server-policy.js';
import type { Authenticator, FhirServerPolicy } from './security/types.js';
import type { CardRecorder, DecisionHistory } from './store/types.js';
import type { TryAssets } from './web/try-assets.js';

/** Everything the app is built from; tests pass their own (nock-backed gateway, pinned clock and ids). */
export interface AppDeps {
  readonly config: Config;
  readonly knowledge: Knowledge;
  readonly logger: Logger;
  readonly gateway?: FhirGateway;
  /** Absent in development mode: calls are accepted unverified. */
  readonly authenticator?: Authenticator;
  readonly fhirServerPolicy?: FhirServerPolicy;
  readonly recorder?: CardRecorder;
  /** What was shown and answered, for holding back repeats; absent: nothing is held back. */
  readonly history?: DecisionHistory;
  readonly metrics?: Metrics;
  /** Routers mounted without authentication (health, metrics). */
  readonly publicRouters?: readonly Router[];
  /** Routers mounted behind caller authentication (feedback, analytics). */
  readonly protectedRouters?: readonly Router[];
  readonly clock?: () => Date;
  /** Pins every card and suggestion id (tests); by default ids derive from the call, so a retry repeats them. */
  readonly newId?: () => string;
  /** Budget of the decision-history lookup in ms; default {@link HISTORY_BUDGET_MS}. */
  readonly historyBudgetMs?: number;
  /** Parsed prefetches kept between calls; by default made from the configuration (off when it gives 0 bytes). */
  readonly prefetchCache?: PrefetchCache;
  /** The /try page; served only in development mode (no authenticator), as its calls carry no caller JWT. */
  readonly tryAssets?: TryAssets;
}

/** Longest wait between sweeps of the prefetch cache on an idle process. */
const PREFETCH_SWEEP_MS = 60_000;

/**
 * The prefetch cache the configuration asks for (none for 0 bytes), swept by a timer, so an idle
 * process holds no chart past its time either. The timer neither keeps the process alive nor the
 * cache: it stops once the app and its cache are gone.
 */
function prefetchCacheFor(config: Config, clock: () => Date): PrefetchCache | undefined {
  const { maxBytes, ttlSeconds } = config.prefetchCache;
  if (maxBytes === 0) return undefined;
  const cache = createPrefetchCache({ maxBytes, ttlMs: ttlSeconds * 1000, now: () => clock().getTime() });
  const held = new WeakRef(cache);
  const timer = setInterval(() => {
    const live = held.deref();
    if (live) live.sweep();
    else clearInterval(timer);
  }, Math.min(PREFETCH_SWEEP_MS, ttlSeconds * 1000));
  timer.unref();
  return cache;
}

/** Builds the Express app from its dependencies; it never listens (server.ts does). */
export function createApp(deps: AppDeps): Express {
  const { config, knowledge, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const pinnedId = deps.newId;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // The CDS services come first after the request log and CORS, each route authenticating its
  // caller: every layer before them is walked by each hook call. Their routes sit on the app's own
  // router, so a hook call walks one layer stack only.
  app.use(createRequestLog(logger, deps.metrics));
  app.use(createCorsMiddleware(config));

  const authenticate = createAuthMiddleware(deps.authenticator, config);
  if (deps.authenticator) app.use('/analytics', createAnalyticsAccess(config.analyticsPassword));
  mountCdsRoutes(app, {
    authenticate,
    knowledge,
    gateway: deps.gateway ?? createGatewayFromConfig(config, deps.metrics),
    fhirServerPolicy: deps.fhirServerPolicy ?? createFhirServerPolicy(undefined, config),
    logger,
    metrics: deps.metrics,
    sayItOnce: createSayItOnce({
      history: deps.history,
      recorder: deps.recorder,
      metrics: deps.metrics,
      secret: config.patientHashSecret,
      lockoutHours: config.suppressionLockoutHours,
      budgetMs: deps.historyBudgetMs ?? HISTORY_BUDGET_MS,
      knowledgeVersion: knowledge.version,
      clock,
    }),
    publicBaseUrl: config.publicBaseUrl,
    bodyLimitBytes: config.bodyLimitBytes,
    prefetchCache: deps.prefetchCache ?? prefetchCacheFor(config, clock),
    deadlineMs: config.fhir.deadlineMs,
    clock,
    idsFor: pinnedId ? () => pinnedId : (call) => callIds(config.patientHashSecret, call),
  });
  // Everything else under these paths (analytics, unknown service paths) is authenticated before it is answered.
  app.use(['/cds-services', '/analytics'], authenticate);
  app.use('/rationale', createRationaleRouter(knowledge));
  app.use('/fhir', createFhirRouter({ knowledge, publicBaseUrl: config.publicBaseUrl, clock }));
  app.use(createBrowserRouter({ knowledge, tryAssets: deps.authenticator ? undefined : deps.tryAssets }));
  for (const router of deps.publicRouters ?? []) app.use(router);
  for (const router of deps.protectedRouters ?? []) app.use(router);

  app.use((_req, _res, next) => next(new CdsError('NOT_FOUND')));
  app.use(createErrorHandler(logger));
  return app;
}
