import { z } from 'zod';

/** Positive integer read from an environment string. */
const intFrom = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  CDS_PUBLIC_BASE_URL: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  BODY_LIMIT_BYTES: intFrom(5 * 1024 * 1024, 1024),
  PREFETCH_CACHE_MB: z.coerce.number().int().min(0).max(4096).default(16),
  PREFETCH_CACHE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  FHIR_CALL_TIMEOUT_MS: intFrom(2500),
  FHIR_DEADLINE_MS: intFrom(4000),
  FHIR_MAX_PAGES: intFrom(10),
  FHIR_PAGE_SIZE: intFrom(200),
  FHIR_MAX_CONCURRENT_CALLS: intFrom(32),
  FHIR_BREAKER_FAILURE_THRESHOLD: intFrom(5),
  FHIR_BREAKER_RESET_MS: intFrom(30_000),
  CDS_TRUST_FILE: optionalString,
  CORS_ORIGINS: optionalString,
  JWT_MAX_TOKEN_AGE_SECONDS: intFrom(300),
  JWT_CLOCK_SKEW_SECONDS: intFrom(30, 0),
  PATIENT_HASH_SECRET: optionalString,
  DATA_DIR: z.string().trim().min(1).default('data'),
  DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\/[^\s]+$/.test(value), {
    message: 'must be a postgres:// or postgresql:// connection URL',
  }),
  WORKERS: intFrom(1),
  ANALYTICS_PASSWORD: optionalString,
  // Blank means unset (the default), never 0: an empty variable must not turn suppression off.
  SUPPRESSION_LOCKOUT_HOURS: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce.number().int().min(0).max(24 * 365).default(24),
  ),
});

/** The service configuration: parsed once from the environment, then frozen. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Public origin plus any path prefix, without a trailing slash (JWT `aud` and card links use it). */
  readonly publicBaseUrl: string;
  readonly logLevel: string;
  /** `json` (one line per record, the default) or `pretty` (pino-pretty, for a person at a terminal). */
  readonly logFormat: 'json' | 'pretty';
  readonly bodyLimitBytes: number;
  /**
   * Parsed prefetches kept for the calls that send the same bytes again (one chart's hooks do):
   * at most this many bytes of prefetch text, each at most this long; 0 bytes turns it off.
   */
  readonly prefetchCache: { readonly maxBytes: number; readonly ttlSeconds: number };
  readonly fhir: {
    readonly callTimeoutMs: number;
    readonly deadlineMs: number;
    readonly maxPages: number;
    readonly pageSize: number;
    readonly maxConcurrentCalls: number;
    readonly breakerFailureThreshold: number;
    readonly breakerResetMs: number;
  };
  /** Path of the trusted-callers file; absent means development mode (no caller authentication). */
  readonly trustFile: string | undefined;
  /** Allowed browser origins, normalised (`scheme://host[:port]`); `['*']` means any origin. */
  readonly corsOrigins: readonly string[];
  readonly jwt: { readonly maxTokenAgeSeconds: number; readonly clockSkewSeconds: number };
  /** Secret for keyed hashes of patient ids in logs and analytics. */
  readonly patientHashSecret: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly workers: number;
  /** Lets people open /analytics in a browser with HTTP Basic (any user name, this password). */
  readonly analyticsPassword: string | undefined;
  /** How long a shown or answered decision is not repeated (clinical-policy.md §6); 0 turns suppression off. */
  readonly suppressionLockoutHours: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Origins of the public CDS Hooks sandbox and of a locally run sandbox. */
export const SANDBOX_ORIGINS: readonly string[] = ['https://sandbox.cds-hooks.org', 'http://localhost:8080'];

const DEV_HASH_SECRET = 'development-only-patient-hash-secret';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

function parseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`CDS_PUBLIC_BASE_URL: not an absolute URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('CDS_PUBLIC_BASE_URL: must use http or https');
  }
  if (url.search || url.hash) throw new ConfigError('CDS_PUBLIC_BASE_URL: must not carry a query or fragment');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** A CORS origin as browsers send it: `scheme://host[:port]`, no path, no trailing slash; `*` alone means any. */
function parseCorsOrigins(raw: string): string[] {
  const entries = raw.split(',').map((origin) => origin.trim()).filter((origin) => origin.length > 0);
  if (entries.length === 0) throw new ConfigError('CORS_ORIGINS: lists no origin');
  if (entries.includes('*')) {
    if (entries.length > 1) throw new ConfigError('CORS_ORIGINS: "*" (any origin) cannot be combined with other origins');
    return ['*'];
  }
  return entries.map((entry) => {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(`CORS_ORIGINS: entry is not an origin: ${entry}`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname.length > 1 || url.search || url.hash) {
      throw new ConfigError(`CORS_ORIGINS: entry must be scheme://host[:port] without a path: ${entry}`);
    }
    return url.origin;
  });
}

/** Names never echoed in a configuration error: their values are secrets. */
const SECRET_VARIABLES = new Set(['PATIENT_HASH_SECRET', 'ANALYTICS_PASSWORD', 'DATABASE_URL']);

/**
 * Reads the configuration from an environment record (normally `process.env`).
 * This is the only place the environment is read.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    const name = first?.path.join('.') ?? '(environment)';
    const raw = env[name];
    const shown = raw === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(raw)})`;
    throw new ConfigError(`${name}: ${first?.message ?? 'invalid'}${shown}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.CDS_TRUST_FILE) {
    throw new ConfigError('CDS_TRUST_FILE: required with NODE_ENV=production (trusted CDS clients); refusing to start unauthenticated');
  }
  if (!e.CDS_TRUST_FILE && !isLoopbackHost(e.HOST)) {
    throw new ConfigError(`HOST: development mode (no CDS_TRUST_FILE) listens on loopback only; HOST=${e.HOST} needs CDS_TRUST_FILE`);
  }
  if (e.ANALYTICS_PASSWORD !== undefined && e.ANALYTICS_PASSWORD.length < 12) {
    throw new ConfigError('ANALYTICS_PASSWORD: must be at least 12 characters');
  }
  if (production && !e.PATIENT_HASH_SECRET) {
    throw new ConfigError('PATIENT_HASH_SECRET: required with NODE_ENV=production');
  }
  const publicHost = isLoopbackHost(e.HOST) ? 'localhost' : e.HOST;
  const publicBaseUrl = parseBaseUrl(e.CDS_PUBLIC_BASE_URL ?? `http://${publicHost}:${e.PORT}`);
  const corsOrigins = e.CORS_ORIGINS
    ? parseCorsOrigins(e.CORS_ORIGINS)
    : e.CDS_TRUST_FILE
      ? [...SANDBOX_ORIGINS]
      : ['*'];
  const config: Config = {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicBaseUrl,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    prefetchCache: { maxBytes: e.PREFETCH_CACHE_MB * 1024 * 1024, ttlSeconds: e.PREFETCH_CACHE_SECONDS },
    fhir: {
      callTimeoutMs: e.FHIR_CALL_TIMEOUT_MS,
      deadlineMs: e.FHIR_DEADLINE_MS,
      maxPages: e.FHIR_MAX_PAGES,
      pageSize: e.FHIR_PAGE_SIZE,
      maxConcurrentCalls: e.FHIR_MAX_CONCURRENT_CALLS,
      breakerFailureThreshold: e.FHIR_BREAKER_FAILURE_THRESHOLD,
      breakerResetMs: e.FHIR_BREAKER_RESET_MS,
    },
    trustFile: e.CDS_TRUST_FILE,
    corsOrigins,
    jwt: { maxTokenAgeSeconds: e.JWT_MAX_TOKEN_AGE_SECONDS, clockSkewSeconds: e.JWT_CLOCK_SKEW_SECONDS },
    patientHashSecret: e.PATIENT_HASH_SECRET ?? DEV_HASH_SECRET,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    workers: e.WORKERS,
    analyticsPassword: e.ANALYTICS_PASSWORD,
    suppressionLockoutHours: e.SUPPRESSION_LOCKOUT_HOURS,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
