import type { RequestHandler, Response, Router } from 'express';
import { callerOf } from './authenticate.js';
import { parseCallBody } from './call-body.js';
import { jsonBody, parseStrictJson, problemsFrom, rawBodyOf, requireJson } from './json-body.js';
import type { PrefetchCache } from './prefetch-cache.js';
import { CdsRequest, contextProblems } from '../cds/request.js';
import { CdsError } from '../errors.js';
import type { FhirGateway } from '../fhir/gateway.js';
import type { CallIdentity } from '../hooks/call-ids.js';
import { evaluateHook, patientIdOf, type EvaluateDeps } from '../hooks/evaluate-hook.js';
import type { SayItOnce } from '../hooks/say-it-once.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { HookDefinitionFile } from '../knowledge/schemas.js';
import { lazyChild, type Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import type { FhirServerPolicy } from '../security/types.js';
import { dataAccessFor } from '../security/data-access.js';
import { factsOf } from './request-facts.js';

export interface CdsRouteDeps {
  readonly knowledge: Knowledge;
  readonly gateway: FhirGateway;
  readonly fhirServerPolicy: FhirServerPolicy;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  /** The step that holds back repeats and records what is shown (clinical-policy.md §6). */
  readonly sayItOnce: SayItOnce;
  readonly publicBaseUrl: string;
  readonly bodyLimitBytes: number;
  /** Prefetches parsed by earlier calls, for the calls that send the same bytes; absent: each is parsed. */
  readonly prefetchCache: PrefetchCache | undefined;
  readonly deadlineMs: number;
  readonly clock: () => Date;
  /** Card and suggestion ids for one call (by default derived from the call, so a retry gets the same ones). */
  readonly idsFor: (call: CallIdentity) => () => string;
  /** Caller authentication, the first step of every route here. */
  readonly authenticate: RequestHandler;
}

/** The discovery entry of one hook definition (https://cds-hooks.hl7.org/2.0/#discovery). */
export function discoveryEntry(hook: HookDefinitionFile): Record<string, unknown> {
  return {
    hook: hook.hook,
    title: hook.title,
    description: hook.description,
    id: hook.id,
    prefetch: hook.prefetch,
    ...(hook.usageRequirements ? { usageRequirements: hook.usageRequirements } : {}),
  };
}

/** 405 with an Allow header for a known path called with the wrong method. */
export function methodNotAllowed(allow: string): RequestHandler {
  return (_req, _res, next) => next(new CdsError('METHOD_NOT_ALLOWED', [], { Allow: allow }));
}

/** A 200 JSON answer written directly: stringified once, its length set, no content negotiation. */
function sendJson(res: Response, body: unknown): void {
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** What the evaluation of one call needs: the route's dependencies and the call's own id source. */
function evaluateDeps(deps: CdsRouteDeps, newId: () => string): EvaluateDeps {
  const { knowledge, gateway, publicBaseUrl, deadlineMs, clock, metrics } = deps;
  return { knowledge, gateway, publicBaseUrl, deadlineMs, clock, metrics, newId };
}

/** The request of a call, checked against the service it was sent to; throws INVALID_REQUEST. */
function parseCall(hook: HookDefinitionFile, body: unknown): CdsRequest {
  const parsed = CdsRequest.safeParse(body);
  if (!parsed.success) throw new CdsError('INVALID_REQUEST', problemsFrom(parsed.error.issues));
  const request = parsed.data;
  if (request.hook !== hook.hook) {
    throw new CdsError('INVALID_REQUEST', [{ path: 'hook', message: `hook "${request.hook}" does not match service ${hook.id}, which answers ${hook.hook}` }]);
  }
  const problems = contextProblems(hook.hook, request);
  if (problems.length > 0) throw new CdsError('INVALID_REQUEST', problems);
  return request;
}

/**
 * Discovery and the services: parse, evaluate, hold back repeats, respond. The routes go on the
 * app's own router: a router of their own, mounted on the app, costs each hook call a second
 * walk (its own layer stack, restored request fields).
 */
export function mountCdsRoutes(router: Pick<Router, 'route'>, deps: CdsRouteDeps): void {
  const byId = new Map(deps.knowledge.hooks.map((hook) => [hook.id, hook]));
  const discovery = { services: deps.knowledge.hooks.map(discoveryEntry) };
  const parseJson = jsonBody(deps.bodyLimitBytes, (bytes) => parseCallBody(bytes, deps.prefetchCache, parseStrictJson));

  router
    .route('/cds-services')
    .get(deps.authenticate, (_req, res) => {
      factsOf(res).route = 'discovery';
      res.json(discovery);
    })
    .all(deps.authenticate, methodNotAllowed('GET, OPTIONS'));

  router
    .route('/cds-services/:id')
    .post(
      deps.authenticate,
      (req, res, next) => {
        const facts = factsOf(res);
        facts.route = 'service';
        const hook = byId.get(req.params['id'] ?? '');
        if (!hook) {
          next(new CdsError('UNKNOWN_SERVICE'));
          return;
        }
        facts.serviceId = hook.id;
        next();
      },
      requireJson,
      parseJson,
      async (req, res) => {
        const hook = byId.get(req.params['id'] ?? '');
        if (!hook) throw new CdsError('UNKNOWN_SERVICE');
        const request = parseCall(hook, req.body);
        const facts = factsOf(res);
        facts.hook = request.hook;
        facts.hookInstance = request.hookInstance;

        const log = lazyChild(deps.logger, { requestId: facts.requestId, serviceId: hook.id, hookInstance: request.hookInstance });
        const access = dataAccessFor(deps.fhirServerPolicy, callerOf(res), request, log);
        // Plain literals rather than spreads of deps and request: V8 copies a spread with an added property slowly.
        const raw = rawBodyOf(req);
        deps.metrics?.countPrefetchParse({ outcome: raw?.prefetch ?? 'parsed' });
        const newId = deps.idsFor({ hookInstance: request.hookInstance, context: request.context, prefetch: request.prefetch, raw: raw?.bytes, members: raw?.members });
        const evaluation = await evaluateHook(hook, request, access, evaluateDeps(deps, newId), log);
        const { cards, shown } = await deps.sayItOnce.apply(
          { serviceId: hook.id, hook: hook.hook, hookInstance: request.hookInstance, patientId: patientIdOf(request) },
          evaluation,
        );
        facts.cards = shown.map((d) => ({ cardId: d.cardId, indicator: d.indicator, uuid: d.uuid }));
        facts.suppressed = evaluation.decisions.length - shown.length;
        sendJson(res, { cards });
      },
    )
    .all(deps.authenticate, methodNotAllowed('POST, OPTIONS'));
}
