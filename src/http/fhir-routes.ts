import { Router, type Response } from 'express';
import { CdsError } from '../errors.js';
import { capabilityStatement, expandValueSet, valueSetBundle, type FhirResource } from '../knowledge/fhir-resources.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { methodNotAllowed } from './cds-routes.js';

export interface FhirRouteDeps {
  readonly knowledge: Knowledge;
  readonly publicBaseUrl: string;
  readonly clock: () => Date;
}

const FHIR_JSON = 'application/fhir+json';

/** Marks the response as FHIR, so the error handler answers in the same media type. */
function asFhir(res: Response): void {
  res.locals['route'] = 'fhir';
  res.locals['fhirContent'] = true;
}

function send(res: Response, resource: FhirResource): void {
  res.type(FHIR_JSON).send(JSON.stringify(resource));
}

/**
 * The knowledge as a read-only FHIR R4 server, public like the rationale pages: `GET /fhir/metadata`,
 * `GET /fhir/ValueSet`, `GET /fhir/ValueSet/{id}` and `GET /fhir/ValueSet/{id}/$expand`.
 * It serves the value sets exactly as loaded at start-up. Mount at `/fhir`.
 * @see https://hl7.org/fhir/R4/http.html
 */
export function createFhirRouter(deps: FhirRouteDeps): Router {
  const { knowledge } = deps;
  const base = `${deps.publicBaseUrl}/fhir`;
  const byId = new Map(knowledge.valueSets.map((vs) => [vs.id, vs]));
  const date = knowledge.valueSets.map((vs) => vs.resource.date).sort().at(-1) ?? '2026-01-01';
  const metadata = capabilityStatement(knowledge, base, date);
  const bundle = valueSetBundle(knowledge, base);
  const router = Router();
  router.use((_req, res, next) => {
    asFhir(res);
    next();
  });

  const valueSet = (id: string | undefined) => {
    const found = byId.get(id ?? '');
    if (!found) throw new CdsError('NOT_FOUND', [{ message: 'No ValueSet with this id' }]);
    return found;
  };

  router.route('/metadata').get((_req, res) => send(res, metadata)).all(methodNotAllowed('GET'));
  router.route('/ValueSet').get((_req, res) => send(res, bundle)).all(methodNotAllowed('GET'));
  router
    .route('/ValueSet/:id')
    .get((req, res) => send(res, valueSet(req.params['id']).resource))
    .all(methodNotAllowed('GET'));
  router
    .route('/ValueSet/:id/:operation')
    .get((req, res) => {
      if (req.params['operation'] !== '$expand') throw new CdsError('NOT_FOUND', [{ message: 'Only $expand is supported' }]);
      send(res, expandValueSet(valueSet(req.params['id']), deps.clock().toISOString()));
    })
    .all(methodNotAllowed('GET'));
  return router;
}
