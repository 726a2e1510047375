import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet, JWK } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';

/**
 * Signing algorithms a CDS client may use: asymmetric only, never `none` or HMAC.
 * @see https://cds-hooks.hl7.org/2.0/#jwt-signing-algorithm
 */
export const ALLOWED_JWT_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;

export type AllowedJwtAlgorithm = (typeof ALLOWED_JWT_ALGORITHMS)[number];

const ALLOWED_ALGORITHM_SET: ReadonlySet<string> = new Set(ALLOWED_JWT_ALGORITHMS);

export function isAllowedJwtAlgorithm(alg: unknown): alg is AllowedJwtAlgorithm {
  return typeof alg === 'string' && ALLOWED_ALGORITHM_SET.has(alg);
}

/** Issuer of the public CDS Hooks sandbox, whose signing key is published with its source. */
export const SANDBOX_ISSUER = 'https://sandbox.cds-hooks.org';

/** JWK members that only a private or symmetric key carries. */
const SECRET_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/** A client's public signing key: JWKs from outside may carry extra members, so the object is loose. */
const PublicJwkSchema = z
  .record(z.string(), z.unknown())
  .superRefine((jwk, ctx) => {
    const kty = jwk['kty'];
    if (kty !== 'EC' && kty !== 'RSA') {
      ctx.addIssue({ code: 'custom', path: ['kty'], message: 'must be "EC" or "RSA" (asymmetric signing keys only)' });
      return;
    }
    for (const member of SECRET_JWK_MEMBERS) {
      if (member in jwk) {
        ctx.addIssue({ code: 'custom', path: [member], message: 'private or symmetric key material must not be in the trust file' });
        return;
      }
    }
    const alg = jwk['alg'];
    if (alg !== undefined && !isAllowedJwtAlgorithm(alg)) {
      ctx.addIssue({ code: 'custom', path: ['alg'], message: `must be one of ${ALLOWED_JWT_ALGORITHMS.join(', ')}` });
    }
    const kid = jwk['kid'];
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['kid'], message: 'must be a non-empty string' });
    }
    try {
      createPublicKey({ key: { ...jwk }, format: 'jwk' });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a valid public key' });
    }
  })
  .transform((jwk): JWK => ({ ...jwk }));

const HttpUrlSchema = z.url({ protocol: /^https?$/ });

const TenantSchema = z.string().trim().min(1);

const ClientSchema = z
  .strictObject({
    iss: z.string().trim().min(1),
    jwks: z.strictObject({ keys: z.array(PublicJwkSchema).min(1) }).optional(),
    jwksUrl: HttpUrlSchema.optional(),
    fhirServers: z.array(HttpUrlSchema),
    tenants: z.array(TenantSchema).min(1).optional(),
  })
  .superRefine((client, ctx) => {
    if (client.jwks === undefined && client.jwksUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'give exactly one of "jwks" or "jwksUrl"' });
    }
    if (client.jwks !== undefined && client.jwksUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwksUrl'], message: 'give exactly one of "jwks" or "jwksUrl"' });
    }
    client.fhirServers.forEach((server, index) => {
      const url = new URL(server);
      if (url.username !== '' || url.password !== '') {
        ctx.addIssue({ code: 'custom', path: ['fhirServers', index], message: 'must not carry credentials' });
      }
      if (url.search !== '' || url.hash !== '') {
        ctx.addIssue({ code: 'custom', path: ['fhirServers', index], message: 'must not carry a query or fragment' });
      }
    });
  });

const TrustFileSchema = z.strictObject({ clients: z.array(ClientSchema).min(1) });

interface TrustedClientBase {
  /** Exact `iss` claim the client signs with. */
  readonly iss: string;
  /** Normalised FHIR base URLs (no trailing slash) this client's calls may point the service at. */
  readonly fhirServers: readonly string[];
  /** When present, the token's `tenant` claim must be one of these. */
  readonly tenants?: readonly string[];
}

/** A client whose public keys are in the trust file. */
export interface LocalKeysClient extends TrustedClientBase {
  readonly jwks: Readonly<JSONWebKeySet>;
}

/** A client whose keys are fetched from its JWK Set URL (the only `jku` it may send). */
export interface RemoteKeysClient extends TrustedClientBase {
  readonly jwksUrl: string;
}

export type TrustedClient = LocalKeysClient | RemoteKeysClient;

/** The parsed, validated and frozen trust file. */
export interface TrustConfig {
  /** Where it was read from (for messages). */
  readonly source: string;
  readonly clients: readonly TrustedClient[];
}

export class TrustFileError extends Error {
  override readonly name = 'TrustFileError';
}

/** Scheme, host, port and path of an http(s) URL, without a trailing slash. */
export function normaliseServerUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Reads and validates the trusted-callers file named by `CDS_TRUST_FILE`.
 * Throws a `TrustFileError` naming the file and the offending field.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export function loadTrustFile(path: string, config: Pick<Config, 'env'>): TrustConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'unreadable';
    throw new TrustFileError(`trust file ${path}: cannot be read (${reason})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TrustFileError(`trust file ${path}: not valid JSON`);
  }
  return parseTrustFile(json, path, config);
}

/**
 * Validates an already-parsed trust document. `source` names it in error messages.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export function parseTrustFile(json: unknown, source: string, config: Pick<Config, 'env'>): TrustConfig {
  const parsed = TrustFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)}${issue.message}`);
    throw new TrustFileError(`trust file ${source}: ${problems.join('; ')}`);
  }
  const production = config.env === 'production';
  const problems: string[] = [];
  const seen = new Set<string>();
  const clients = parsed.data.clients.map((client, index): TrustedClient => {
    const at = `clients.${index}`;
    if (seen.has(client.iss)) problems.push(`${at}.iss: duplicate issuer ${client.iss}`);
    seen.add(client.iss);
    if (production && client.iss === SANDBOX_ISSUER) {
      problems.push(`${at}.iss: the CDS Hooks sandbox signing key is public; not trusted in production`);
    }
    const fhirServers = client.fhirServers.map((server, serverIndex) => {
      const url = new URL(server);
      if (production && url.protocol !== 'https:') problems.push(`${at}.fhirServers.${serverIndex}: must use https in production`);
      return normaliseServerUrl(url);
    });
    if (client.jwksUrl !== undefined && production && new URL(client.jwksUrl).protocol !== 'https:') {
      problems.push(`${at}.jwksUrl: must use https in production`);
    }
    const base = {
      iss: client.iss,
      fhirServers: [...new Set(fhirServers)],
      ...(client.tenants ? { tenants: [...new Set(client.tenants)] } : {}),
    };
    if (client.jwksUrl !== undefined) return { ...base, jwksUrl: client.jwksUrl };
    return { ...base, jwks: { keys: client.jwks?.keys ?? [] } };
  });
  if (problems.length > 0) throw new TrustFileError(`trust file ${source}: ${problems.join('; ')}`);
  return deepFreeze({ source, clients });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '' : `${path.map(String).join('.')}: `;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
