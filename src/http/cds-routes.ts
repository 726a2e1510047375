import { Router, type RequestHandler } from 'express';
import { callerOf } from './authenticate.js';
import { jsonBody, problemsFrom, requireJson } from './json-body.js';
import { CdsRequest, contextProblems } from '../cds/request.js';
import { CdsError } from '../errors.js';
import type { FhirGateway } from '../fhir/gateway.js';
import type { DataAccess } from '../fhir/patient-data.js';
import { evaluateHook } from '../hooks/evaluate-hook.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import type { HookDefinitionFile } from '../knowledge/schemas.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import type { FhirServerPolicy } from '../security/types.js';
import { patientHash } from '../security/patient-hash.js';
import type { CardRecorder, IssuedCard } from '../store/types.js';

export interface CdsRouteDeps {
  readonly knowledge: Knowledge;
  readonly gateway: FhirGateway;
  readonly fhirServerPolicy: FhirServerPolicy;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly recorder: CardRecorder | undefined;
  readonly publicBaseUrl: string;
  readonly bodyLimitBytes: number;
  readonly deadlineMs: number;
  readonly patientHashSecret: string;
  readonly clock: () => Date;
  readonly newId: () => string;
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

/** Discovery and the three services. */
export function createCdsRouter(deps: CdsRouteDeps): Router {
  const router = Router();
  const byId = new Map(deps.knowledge.hooks.map((hook) => [hook.id, hook]));
  const discovery = { services: deps.knowledge.hooks.map(discoveryEntry) };
  const parseJson = jsonBody(deps.bodyLimitBytes);

  router
    .route('/cds-services')
    .get((_req, res) => {
      res.locals['route'] = 'discovery';
      res.json(discovery);
    })
    .all(methodNotAllowed('GET, OPTIONS'));

  router
    .route('/cds-services/:id')
    .post(
      (req, res, next) => {
        res.locals['route'] = 'service';
        const hook = byId.get(req.params['id'] ?? '');
        if (!hook) {
          next(new CdsError('UNKNOWN_SERVICE'));
          return;
        }
        res.locals['serviceId'] = hook.id;
        next();
      },
      requireJson,
      parseJson,
      async (req, res) => {
        const hook = byId.get(req.params['id'] ?? '');
        if (!hook) throw new CdsError('UNKNOWN_SERVICE');
        const parsed = CdsRequest.safeParse(req.body);
        if (!parsed.success) {
          throw new CdsError('INVALID_REQUEST', problemsFrom(parsed.error.issues));
        }
        const request = parsed.data;
        res.locals['hook'] = request.hook;
        res.locals['hookInstance'] = request.hookInstance;
        if (request.hook !== hook.hook) {
          throw new CdsError('INVALID_REQUEST', [{ path: 'hook', message: `hook "${request.hook}" does not match service ${hook.id}, which answers ${hook.hook}` }]);
        }
        const problems = contextProblems(hook.hook, request);
        if (problems.length > 0) throw new CdsError('INVALID_REQUEST', problems);

        const caller = callerOf(res);
        const log = deps.logger.child({ requestId: res.locals['requestId'], serviceId: hook.id, hookInstance: request.hookInstance });
        const fhirServer = request.fhirServer;
        const allowed = fhirServer !== undefined && deps.fhirServerPolicy.isAllowed(caller, fhirServer);
        if (fhirServer && !allowed) log.warn({ iss: caller?.iss }, 'fhirServer not on the caller allowlist: not contacted');
        const token = request.fhirAuthorization?.access_token;
        const access: DataAccess = { fhirServer: allowed ? fhirServer : undefined, token: token && token.trim() !== '' ? token : undefined };

        const evaluation = await evaluateHook(hook, request, access, { ...deps, metrics: deps.metrics }, log);
        res.locals['cards'] = evaluation.decisions.map((d) => ({ cardId: d.cardId, indicator: d.indicator, uuid: d.uuid }));
        for (const d of evaluation.decisions) deps.metrics?.countCard({ cardId: d.cardId, indicator: d.indicator });
        res.json({ cards: evaluation.cards });

        if (deps.recorder && evaluation.decisions.length > 0) {
          const issuedAt = deps.clock().toISOString();
          const hash = patientHash(deps.patientHashSecret, request.context.patientId);
          const issued: IssuedCard[] = evaluation.decisions.map((d) => ({
            cardUuid: d.uuid,
            cardId: d.cardId,
            knowledgeVersion: deps.knowledge.version,
            serviceId: hook.id,
            hook: hook.hook,
            hookInstance: request.hookInstance,
            indicator: d.indicator,
            issuedAt,
            patientHash: hash,
          }));
          // Never awaited: the card response does not wait on, or fail because of, storage.
          deps.recorder.recordIssued(issued).catch(() => undefined);
        }
      },
    )
    .all(methodNotAllowed('POST, OPTIONS'));

  return router;
}
