import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import { CdsError } from '../errors.js';
import { bundleResources, FhirCallError, isUnderBase, nextLink, type FhirGateway } from './gateway.js';
import { isObject, list, objects, str } from './json.js';

/** What a prefetch key holds, read per CDS Hooks 2.0 §Prefetch (checklist §2.5). */
export type PrefetchRead =
  | { readonly state: 'data'; readonly resources: readonly unknown[]; readonly next?: string }
  | { readonly state: 'absent' }
  | { readonly state: 'failed' };

/** Severities of an OperationOutcome that are notes, not errors (checklist §2.5, corrected). */
const NOTE_SEVERITIES = new Set(['information', 'warning']);

function isOperationOutcome(resource: unknown): resource is Record<string, unknown> {
  return isObject(resource) && resource['resourceType'] === 'OperationOutcome';
}

/**
 * Whether an OperationOutcome reports a failure: an issue of severity error or fatal. An issue with
 * no readable severity, or an outcome with no issue, counts as a failure too (the data is asked
 * for again rather than taken as empty).
 */
function reportsFailure(outcome: Record<string, unknown>): boolean {
  const issues = objects(outcome['issue']);
  return issues.length === 0 || issues.some((issue) => !NOTE_SEVERITIES.has(str(issue['severity']) ?? ''));
}

/**
 * A present key is used; `null` or an empty Bundle means "no data"; an OperationOutcome reporting
 * an error, alone or as a Bundle entry, means the client failed to fetch. Information and warning
 * outcomes are notes: the other entries are the result, and an outcome-only searchset is empty.
 */
export function readPrefetch(prefetch: Record<string, unknown> | null | undefined, key: string): PrefetchRead {
  if (!prefetch || !Object.prototype.hasOwnProperty.call(prefetch, key)) return { state: 'absent' };
  const value = prefetch[key];
  if (value === null) return { state: 'data', resources: [] };
  if (!isObject(value)) return { state: 'failed' };
  let read = reads.get(value);
  if (read === undefined) {
    read = readValue(value);
    if (read.state === 'data') Object.freeze(read.resources);
    reads.set(value, Object.freeze(read));
  }
  return read;
}

/**
 * Reads kept by the prefetch value they were read from. Calls that send a prefetch byte for byte
 * again share its parsed objects (src/http/prefetch-cache.ts), and so get the same read, with the
 * same resource list, which lets the record read from it be kept too (evaluate-hook.ts). Values
 * parsed for one call only miss and go with their call.
 */
const reads = new WeakMap<object, PrefetchRead>();

function readValue(value: Record<string, unknown>): PrefetchRead {
  if (isOperationOutcome(value)) return reportsFailure(value) ? { state: 'failed' } : { state: 'data', resources: [] };
  if (value['resourceType'] !== 'Bundle') return str(value['resourceType']) ? { state: 'data', resources: [value] } : { state: 'failed' };
  for (const entry of list(value['entry'])) {
    const resource = isObject(entry) ? entry['resource'] : undefined;
    if (isOperationOutcome(resource) && reportsFailure(resource)) return { state: 'failed' };
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
  /** The evaluation's abort signal, made on first use: a call served from the prefetch makes none. */
  readonly signal: () => AbortSignal;
}

export interface DataDeps {
  readonly gateway: FhirGateway;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
}

/** Resources at hand (a usable prefetch), or a read still under way. */
export type Loaded = readonly unknown[] | Promise<readonly unknown[]>;

/**
 * The resources for one prefetch key: from the prefetch when usable, else from the FHIR server
 * (checklist §2.5); rejects with `CdsError('DATA_UNAVAILABLE')` (412) when neither way works.
 * A whole prefetch is returned as it is, not as a promise: most calls carry one, and the rules
 * then read it without waiting a turn.
 */
export function loadKey(request: DataRequest, deps: DataDeps): Loaded {
  const read = readPrefetch(request.prefetch, request.key);
  if (read.state === 'data' && read.next === undefined) {
    deps.metrics?.countPrefetch({ key: request.key, outcome: 'used' });
    return read.resources;
  }
  return fetchKey(read, request, deps);
}

async function fetchKey(read: PrefetchRead, request: DataRequest, deps: DataDeps): Promise<readonly unknown[]> {
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
    const result = await deps.gateway.search({ baseUrl: request.access.fhirServer, token: request.access.token, query, signal: request.signal() });
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
    const result = await deps.gateway.search({ baseUrl: server, token: request.access.token, query: next, signal: request.signal() });
    if (result.truncated) deps.logger.warn({ key: request.key }, 'paged prefetch truncated at the page cap');
    return result.resources;
  } catch (error) {
    deps.logger.warn({ key: request.key, fhirError: error instanceof FhirCallError ? error.kind : 'unknown' }, 'paged prefetch used as partial');
    return [];
  }
}
