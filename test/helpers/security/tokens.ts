import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { loadConfig, type Config } from '../../../src/config.js';
import { createLogger, type Logger } from '../../../src/logger.js';

/** Fixed "now" for token tests, in seconds since the epoch. */
export const NOW = 1_800_000_000;

export const PUBLIC_BASE_URL = 'https://cds.example.org';
export const AUDIENCE = `${PUBLIC_BASE_URL}/cds-services/spine-safety-order-sign`;

export const ES_ISSUER = 'https://ehr-a.example.org';
export const RS_ISSUER = 'https://ehr-b.example.org';
export const REMOTE_ISSUER = 'https://ehr-c.example.org';
export const REMOTE_JWKS_ORIGIN = 'https://keys.ehr-c.example.org';
export const REMOTE_JWKS_PATH = '/.well-known/jwks.json';
export const REMOTE_JWKS_URL = `${REMOTE_JWKS_ORIGIN}${REMOTE_JWKS_PATH}`;

export interface TestKey {
  readonly alg: 'ES384' | 'RS384';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** A fresh key pair with its public JWK (kid and alg set). */
export async function createTestKey(alg: 'ES384' | 'RS384', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

export interface TokenOptions {
  readonly iss?: string;
  readonly aud?: string | string[];
  readonly iat?: number;
  readonly exp?: number;
  readonly jti?: string;
  readonly tenant?: string;
  /** Claims to leave out entirely. */
  readonly omit?: readonly ('exp' | 'iat' | 'jti' | 'aud')[];
  readonly kid?: string;
  readonly typ?: string;
  readonly jku?: string;
}

/** Signs a CDS client JWT like a well-behaved client would, with per-test overrides. */
export async function signToken(key: TestKey, options: TokenOptions = {}): Promise<string> {
  const omit = new Set(options.omit ?? []);
  const iat = options.iat ?? NOW;
  const payload: JWTPayload = {
    iss: options.iss ?? ES_ISSUER,
    ...(omit.has('aud') ? {} : { aud: options.aud ?? AUDIENCE }),
    ...(omit.has('iat') ? {} : { iat }),
    ...(omit.has('exp') ? {} : { exp: options.exp ?? iat + 300 }),
    ...(omit.has('jti') ? {} : { jti: options.jti ?? randomUUID() }),
    ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
  };
  return new SignJWT(payload)
    .setProtectedHeader({
      alg: key.alg,
      kid: options.kid ?? key.kid,
      typ: options.typ ?? 'JWT',
      ...(options.jku !== undefined ? { jku: options.jku } : {}),
    })
    .sign(key.privateKey);
}

export function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: string[];
  /** Parsed records. */
  records(): Array<Record<string, unknown>>;
}

/** A real service logger writing into an array. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  return {
    logger,
    lines,
    records: () =>
      lines.map((line) => {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== 'object' || parsed === null) throw new Error('log line is not an object');
        return Object.fromEntries(Object.entries(parsed));
      }),
  };
}

/** Reasons of the authentication failures logged so far. */
export function loggedReasons(logs: CapturedLogs): unknown[] {
  return logs.records().flatMap((record) => ('reason' in record ? [record['reason']] : []));
}

/** Configuration of an authenticated test service. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    CDS_TRUST_FILE: '/unused/trust.json',
    CDS_PUBLIC_BASE_URL: PUBLIC_BASE_URL,
    JWT_MAX_TOKEN_AGE_SECONDS: '300',
    JWT_CLOCK_SKEW_SECONDS: '30',
    ...overrides,
  });
}
