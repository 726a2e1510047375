import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import type { Config } from '../config.js';
import { CdsError } from '../errors.js';
import { errorKind, type Logger } from '../logger.js';
import { ALLOWED_JWT_ALGORITHMS, isAllowedJwtAlgorithm, type TrustConfig, type TrustedClient } from './trust-file.js';
import type { Authenticator, Caller } from './types.js';

export interface JwtAuthenticatorOptions {
  /** Current time in seconds since the epoch (tests pin it). */
  readonly now?: () => number;
  /** Most `jti` values remembered at once; when full and nothing has expired, new tokens are refused. */
  readonly replayCacheMaxEntries?: number;
  /**
   * Token ids shared by every instance (the PostgreSQL store), so a token replayed to another
   * instance within its lifetime is refused too. The in-process cache is always checked first;
   * when the shared store fails, the call is judged by the in-process cache alone (logged).
   */
  readonly sharedReplay?: SharedReplayGuard;
  /** Time limit for one JWK Set download. */
  readonly jwksTimeoutMs?: number;
  /** Least time between two downloads of a client's JWK Set (a token with an unknown `kid` triggers one). */
  readonly jwksCooldownMs?: number;
  /** Age after which a downloaded JWK Set is fetched again. */
  readonly jwksCacheMaxAgeMs?: number;
}

/** A replay record shared between instances. */
export interface SharedReplayGuard {
  /** True the first time a token key is claimed; false while an earlier claim is in force. */
  claimToken(tokenKey: string, forgetAfter: Date, now: Date): Promise<boolean>;
}

const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;
const DEFAULT_JWKS_TIMEOUT_MS = 2_000;
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** A CDS client JWT is a few hundred bytes; anything this large is not one. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const LOGGED_VALUE_MAX_LENGTH = 256;

/** Why a token was refused: logged, never sent to the caller. */
class Rejection extends Error {
  constructor(
    readonly reason: string,
    readonly iss?: string,
  ) {
    super(reason);
  }
}

interface ClientEntry {
  readonly client: TrustedClient;
  readonly getKey: JWTVerifyGetKey;
  /** The only `jku` header value accepted from this client. */
  readonly jku: string | undefined;
}

/**
 * Remembers each `jti` until the token could no longer be accepted anyway, so a captured token
 * cannot be replayed. Bounded: when full and nothing has expired, it refuses rather than forgets.
 */
class ReplayCache {
  private readonly seen = new Map<string, number>();
  private nextSweepAt = 0;

  constructor(private readonly maxEntries: number) {}

  /** Records the id; false when it was already seen (replay) or the cache is full. */
  remember(key: string, forgetAfter: number, now: number): 'ok' | 'replayed' | 'full' {
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return 'replayed';
    if (now >= this.nextSweepAt || this.seen.size >= this.maxEntries) this.sweep(now);
    if (this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(key, forgetAfter);
    return 'ok';
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [key, forgetAfter] of this.seen) {
      if (forgetAfter <= now) this.seen.delete(key);
    }
    this.nextSweepAt = now + 60;
  }
}

/** Claims the token in the shared store; true when it is new there, or when the store cannot say. */
async function claimShared(guard: SharedReplayGuard, tokenKey: string, forgetAfter: number, now: number, iss: string, logger: Logger): Promise<boolean> {
  const key = createHash('sha256').update(tokenKey).digest('hex');
  try {
    return await guard.claimToken(key, new Date(forgetAfter * 1000), new Date(now * 1000));
  } catch (error) {
    logger.warn({ iss, err: errorKind(error) }, 'shared jti replay record unavailable; judged by this instance alone');
    return true;
  }
}

/**
 * Verifies the JWT a CDS client sends with every call: asymmetric `alg` only, trusted `iss`,
 * `jku` only when allowlisted for that issuer, signature, exact `aud`, `exp`/`iat` with skew,
 * maximum age, `jti` not replayed, and `tenant` when the client lists tenants.
 * Every failure throws `CdsError('UNAUTHORIZED')` without detail; the reason is logged.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export function createJwtAuthenticator(
  trust: TrustConfig,
  config: Pick<Config, 'jwt'>,
  logger: Logger,
  options: JwtAuthenticatorOptions = {},
): Authenticator {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const replayCache = new ReplayCache(options.replayCacheMaxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES);
  const { clockSkewSeconds, maxTokenAgeSeconds } = config.jwt;

  const clients = new Map<string, ClientEntry>();
  for (const client of trust.clients) {
    if ('jwksUrl' in client) {
      const getKey = createRemoteJWKSet(new URL(client.jwksUrl), {
        timeoutDuration: options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
        cooldownDuration: options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS,
      });
      clients.set(client.iss, { client, getKey, jku: client.jwksUrl });
    } else {
      const getKey = createLocalJWKSet({ keys: [...client.jwks.keys] });
      clients.set(client.iss, { client, getKey, jku: undefined });
    }
  }

  async function verify(authorization: string | undefined, audience: string): Promise<Caller> {
    const token = bearerToken(authorization);
    const header = protectedHeader(token);
    if (!isAllowedJwtAlgorithm(header.alg)) throw new Rejection('alg not allowed');
    if (header.typ !== undefined && !isJwtTyp(header.typ)) throw new Rejection('typ is not JWT');

    const unverified = unverifiedClaims(token);
    if (typeof unverified.iss !== 'string') throw new Rejection('missing iss');
    const entry = clients.get(unverified.iss);
    if (entry === undefined) throw new Rejection('untrusted iss', unverified.iss);
    const iss = entry.client.iss;
    if (header.jku !== undefined && header.jku !== entry.jku) throw new Rejection('jku not allowlisted', iss);

    const currentTime = now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, entry.getKey, {
        issuer: iss,
        audience,
        algorithms: [...ALLOWED_JWT_ALGORITHMS],
        clockTolerance: clockSkewSeconds,
        maxTokenAge: maxTokenAgeSeconds,
        requiredClaims: ['exp', 'iat', 'jti'],
        currentDate: new Date(currentTime * 1000),
      }));
    } catch (error) {
      throw new Rejection(verificationFailure(error), iss);
    }

    const { jti, exp, iat } = payload;
    if (typeof jti !== 'string' || jti.length === 0) throw new Rejection('jti is not a non-empty string', iss);
    const tenant = tenantOf(payload);
    if (tenant === null) throw new Rejection('tenant is not a string', iss);
    const allowedTenants = entry.client.tenants;
    if (allowedTenants !== undefined && (tenant === undefined || !allowedTenants.includes(tenant))) {
      throw new Rejection('tenant not allowed for this client', iss);
    }

    // After this moment `exp` or the maximum age refuses the token anyway, so its jti can go.
    const lastAcceptable = Math.min(exp ?? Number.POSITIVE_INFINITY, (iat ?? currentTime) + maxTokenAgeSeconds);
    const tokenKey = `${iss}\u0000${jti}`;
    const forgetAfter = lastAcceptable + clockSkewSeconds + 1;
    const outcome = replayCache.remember(tokenKey, forgetAfter, currentTime);
    if (outcome === 'replayed') throw new Rejection('replayed jti', iss);
    if (outcome === 'full') {
      logger.error({ iss, entries: replayCache.size }, 'jti replay cache full; refusing new tokens');
      throw new Rejection('replay cache full', iss);
    }
    if (options.sharedReplay && !(await claimShared(options.sharedReplay, tokenKey, forgetAfter, currentTime, iss, logger))) {
      throw new Rejection('replayed jti (seen by another instance)', iss);
    }
    return { iss, jti, ...(tenant !== undefined ? { tenant } : {}) };
  }

  return {
    async authenticate(authorization, audience) {
      try {
        return await verify(authorization, audience);
      } catch (error) {
        const reason = error instanceof Rejection ? error.reason : 'internal verification error';
        const iss = error instanceof Rejection && error.iss !== undefined ? error.iss.slice(0, LOGGED_VALUE_MAX_LENGTH) : undefined;
        logger.warn({ reason, ...(iss !== undefined ? { iss } : {}) }, 'CDS client authentication failed');
        throw new CdsError('UNAUTHORIZED');
      }
    },
  };
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw new Rejection('missing Authorization header');
  const match = /^Bearer +(\S+) *$/i.exec(authorization.trim());
  const token = match?.[1];
  if (token === undefined) throw new Rejection('Authorization is not a Bearer token');
  if (token.length > MAX_TOKEN_LENGTH) throw new Rejection('token too large');
  if (token.split('.').length !== 3) throw new Rejection('malformed token');
  return token;
}

function protectedHeader(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw new Rejection('malformed token header');
  }
}

function unverifiedClaims(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch {
    throw new Rejection('malformed token payload');
  }
}

/** `typ` compares as a media type: case-insensitive, `application/` optional. */
function isJwtTyp(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'jwt';
}

/** The `tenant` claim: undefined when absent, null when present but not a string. */
function tenantOf(payload: JWTPayload): string | undefined | null {
  const tenant: unknown = payload['tenant'];
  if (tenant === undefined) return undefined;
  return typeof tenant === 'string' ? tenant : null;
}

function verificationFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) {
    return error.claim === 'iat' ? 'token too old (iat)' : 'token expired';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `missing ${error.claim}`;
    if (error.claim === 'aud') return 'aud mismatch';
    if (error.claim === 'iat') return 'iat in the future';
    return `${error.claim} check failed`;
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'unknown kid';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several keys match and none verifies';
  if (error instanceof joseErrors.JWKSTimeout) return 'JWK Set download timed out';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'alg not allowed';
  if (error instanceof joseErrors.JWKSInvalid) return 'JWK Set invalid';
  if (error instanceof joseErrors.JOSEError) return `invalid token or keys: ${error.message.slice(0, LOGGED_VALUE_MAX_LENGTH)}`;
  return 'JWK Set unavailable';
}
