import { Client } from 'fhir-kit-client';
import { isObject, list, objects, str } from './json.js';

/** One search against the EHR's FHIR server, on behalf of one CDS call. */
export interface FhirSearch {
  /** The EHR's FHIR base URL (`fhirServer`), already checked against the caller's allowlist. */
  readonly baseUrl: string;
  /** Bearer token from `fhirAuthorization`; used for this call only, never logged or stored. */
  readonly token: string | undefined;
  /** A relative search, e.g. `Condition?patient=123`, or the absolute `next` link of a page from this server. */
  readonly query: string;
  /** Aborts when the call's overall deadline passes. */
  readonly signal: AbortSignal;
}

export interface FhirSearchResult {
  readonly resources: unknown[];
  /** More pages existed than the page cap allowed. */
  readonly truncated: boolean;
}

/** Why a search failed, without the URL or anything else that could identify the patient. */
export class FhirCallError extends Error {
  override readonly name = 'FhirCallError';
  constructor(readonly kind: 'timeout' | 'http' | 'network' | 'invalid' | 'rejected', readonly status?: number) {
    super(`FHIR call failed: ${kind}${status ? ` ${status}` : ''}`);
  }
}

/** Access to the EHR's FHIR server: one small interface, so tests and the circuit breaker can wrap it. */
export interface FhirGateway {
  search(request: FhirSearch): Promise<FhirSearchResult>;
}

export interface GatewayOptions {
  readonly callTimeoutMs: number;
  readonly maxPages: number;
  readonly pageSize: number;
  readonly maxConcurrentCalls: number;
}

/** True when `url` lies under `baseUrl` (same origin, path on a segment boundary). */
export function isUnderBase(url: string, baseUrl: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(baseUrl);
  } catch {
    return false;
  }
  if (target.origin !== base.origin) return false;
  const prefix = base.pathname.replace(/\/+$/, '');
  return target.pathname === prefix || target.pathname.startsWith(`${prefix}/`);
}

/** The `next` link of a searchset Bundle, if any. */
export function nextLink(bundle: unknown): string | undefined {
  if (!isObject(bundle)) return undefined;
  const next = objects(bundle['link']).find((link) => link['relation'] === 'next');
  return next ? str(next['url']) : undefined;
}

/** Resources of a searchset Bundle, without OperationOutcome entries. */
export function bundleResources(bundle: unknown): unknown[] {
  if (!isObject(bundle)) return [];
  // One loop, no list in between: a chart's Bundle holds every Condition of the patient.
  const resources: unknown[] = [];
  for (const entry of list(bundle['entry'])) {
    const resource = isObject(entry) ? entry['resource'] : undefined;
    if (isObject(resource) && resource['resourceType'] !== 'OperationOutcome') resources.push(resource);
  }
  return resources;
}

function classify(error: unknown, signal: AbortSignal): FhirCallError {
  if (error instanceof FhirCallError) return error;
  if (signal.aborted || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))) {
    return new FhirCallError('timeout');
  }
  if (isObject(error) && isObject(error['response']) && typeof error['response']['status'] === 'number') {
    return new FhirCallError('http', error['response']['status']);
  }
  return new FhirCallError('network');
}

/** A counting semaphore bounding the outgoing calls in flight. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/**
 * The fhir-kit-client gateway: a timeout per call, the overall deadline, `next` links followed
 * up to `maxPages` (and only when they stay on the same server).
 */
export function createFhirKitGateway(options: GatewayOptions): FhirGateway {
  const semaphore = new Semaphore(options.maxConcurrentCalls);
  return {
    async search(request: FhirSearch): Promise<FhirSearchResult> {
      const continuation = /^https?:\/\//i.test(request.query);
      if (continuation && !isUnderBase(request.query, request.baseUrl)) throw new FhirCallError('rejected');
      const [resourceType = '', queryString = ''] = request.query.split('?');
      const searchParams: Record<string, string> = Object.fromEntries(new URLSearchParams(queryString));
      searchParams['_count'] ??= String(options.pageSize);
      const client = new Client({
        baseUrl: request.baseUrl,
        customHeaders: request.token ? { Authorization: `Bearer ${request.token}` } : {},
      });
      const callSignal = () => AbortSignal.any([request.signal, AbortSignal.timeout(options.callTimeoutMs)]);
      const resources: unknown[] = [];
      let signal = callSignal();
      try {
        let bundle: unknown = await semaphore.run(() =>
          continuation ? client.request(request.query, { options: { signal } }) : client.search({ resourceType, searchParams, options: { signal } }),
        );
        for (let page = 1; ; page += 1) {
          if (!isObject(bundle) || bundle['resourceType'] !== 'Bundle') throw new FhirCallError('invalid');
          resources.push(...bundleResources(bundle));
          const next = nextLink(bundle);
          if (!next) return { resources, truncated: false };
          if (page >= options.maxPages || !isUnderBase(next, request.baseUrl)) return { resources, truncated: true };
          signal = callSignal();
          bundle = await semaphore.run(() => client.request(next, { options: { signal } }));
        }
      } catch (error) {
        throw classify(error, signal);
      }
    },
  };
}

