import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import { CdsError } from '../errors.js';
import { bundleResources, FhirCallError, isUnderBase, nextLink, type FhirGateway } from './gateway.js';
import { isObject, objects, str } from './json.js';

/** What a prefetch key holds, read per CDS Hooks 2.0 §Prefetch (checklist §2.5). */
export type PrefetchRead =
  | { readonly state: 'data'; readonly resources: unknown[]; readonly next?: string }
  | { readonly state: 'absent' }
  | { readonly state: 'failed' };

const FAILING_SEVERITIES = new Set(['fatal', 'error']);

function isFailingOutcome(resource: unknown): boolean {
  return isObject(resource) && resource['resourceType'] === 'OperationOutcome';
}

/**
 * A present key is used; `null` or an empty Bundle means "no data"; an OperationOutcome, or a
 * Bundle carrying only OperationOutcomes or an error-level one, means the client failed to fetch.
 */
export function readPrefetch(prefetch: Record<string, unknown> | null | undefined, key: string): PrefetchRead {
  if (!prefetch || !Object.prototype.hasOwnProperty.call(prefetch, key)) return { state: 'absent' };
  const value = prefetch[key];
  if (value === null) return { state: 'data', resources: [] };
  if (!isObject(value)) return { state: 'failed' };
  if (isFailingOutcome(value)) return { state: 'failed' };
  if (value['resourceType'] !== 'Bundle') return str(value['resourceType']) ? { state: 'data', resources: [value] } : { state: 'failed' };
  const entries = objects(value['entry']).map((entry) => entry['resource']);
  const outcomes = entries.filter(isFailingOutcome);
  if (outcomes.length > 0) {
    const anyError = outcomes.some((oo) => isObject(oo) && objects(oo['issue']).some((issue) => FAILING_SEVERITIES.has(str(issue['severity']) ?? 'error')));
    if (anyError || outcomes.length === entries.length) return { state: 'failed' };
  }
  const next = nextLink(value);
  return next ? { state: 'data', resources: bundleResources(value), next } : { state: 'data', resources: bundleResources(value) };
}

/** Fills `{{context.x}}` tokens of a prefetch template (values URL-encoded). */
export function fillTemplate(template: string, context: Record<string, unknown>): string | undefined {
  let missing = false;
  const filled = template.replace(/\{\{context\.([A-Za-z]+)\}\}/g, (_, name: string) => {
    const value = context[name];
    if (typeof value !== 'string' || value === '') {
      missing = true;
      return '';
    }
    return encodeURIComponent(value);
  });
  return missing ? undefined : filled;
}

export interface DataAccess {
  /** The FHIR server to fall back to, when one was given and the caller may use it. */
  readonly fhirServer: string | undefined;
  readonly token: string | undefined;
}

export interface DataRequest {
  readonly key: string;
  readonly template: string;
  readonly prefetch: Record<string, unknown> | null | undefined;
  readonly context: Record<string, unknown>;
  readonly access: DataAccess;
  readonly signal: AbortSignal;
}

export interface DataDeps {
  readonly gateway: FhirGateway;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
}

/**
 * The resources for one prefetch key: from the prefetch when usable, else from the FHIR server
 * (checklist §2.5). Throws `CdsError('DATA_UNAVAILABLE')` (412) when neither way works.
 */
export async function loadKey(request: DataRequest, deps: DataDeps): Promise<unknown[]> {
  const read = readPrefetch(request.prefetch, request.key);
  if (read.state === 'data') {
    deps.metrics?.countPrefetch({ key: request.key, outcome: 'used' });
    return read.next ? [...read.resources, ...(await remainingPages(read.next, request, deps))] : read.resources;
  }
  const query = fillTemplate(request.template, request.context);
  if (!request.access.fhirServer || !query) {
    deps.metrics?.countPrefetch({ key: request.key, outcome: 'failed' });
    deps.logger.warn({ key: request.key, prefetch: read.state, reason: request.access.fhirServer ? 'template' : 'no-fhir-access' }, 'data unavailable');
    throw new CdsError('DATA_UNAVAILABLE', [{ message: `No usable prefetch for "${request.key}" and no FHIR server the service may query` }]);
  }
  try {
    const result = await deps.gateway.search({ baseUrl: request.access.fhirServer, token: request.access.token, query, signal: request.signal });
    deps.metrics?.countPrefetch({ key: request.key, outcome: 'fetched' });
    if (result.truncated) deps.logger.warn({ key: request.key }, 'FHIR search truncated at the page cap or at a link off the server');
    return result.resources;
  } catch (error) {
    deps.metrics?.countPrefetch({ key: request.key, outcome: 'failed' });
    const kind = error instanceof FhirCallError ? error.kind : 'unknown';
    const status = error instanceof FhirCallError ? error.status : undefined;
    deps.logger.warn({ key: request.key, prefetch: read.state, fhirError: kind, fhirStatus: status }, 'FHIR fallback failed');
    throw new CdsError('DATA_UNAVAILABLE', [{ message: `"${request.key}" could not be read from the FHIR server (${kind === 'timeout' ? 'timed out' : kind})` }]);
  }
}

/**
 * CDS Hooks 2.0 allows a paged prefetch: the rest is read from the FHIR server when the `next`
 * link points at the server the caller may use (same page cap). Otherwise, or when that read
 * fails, the prefetched page is used as it is and the gap is logged: a partial record still
 * raises the alerts it can, where a 412 would raise none.
 */
async function remainingPages(next: string, request: DataRequest, deps: DataDeps): Promise<unknown[]> {
  const server = request.access.fhirServer;
  if (!server || !isUnderBase(next, server)) {
    deps.logger.warn({ key: request.key, reason: server ? 'next-link-off-server' : 'no-fhir-access' }, 'paged prefetch used as partial');
    return [];
  }
  try {
    const result = await deps.gateway.search({ baseUrl: server, token: request.access.token, query: next, signal: request.signal });
    if (result.truncated) deps.logger.warn({ key: request.key }, 'paged prefetch truncated at the page cap');
    return result.resources;
  } catch (error) {
    deps.logger.warn({ key: request.key, fhirError: error instanceof FhirCallError ? error.kind : 'unknown' }, 'paged prefetch used as partial');
    return [];
  }
}
