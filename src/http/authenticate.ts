import type { RequestHandler, Response } from 'express';
import type { Config } from '../config.js';
import type { Authenticator, Caller } from '../security/types.js';

/**
 * The `aud` a client must put in its JWT for this request: the public base URL plus the path
 * called, without query string or trailing slash.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export function audienceFor(publicBaseUrl: string, originalUrl: string): string {
  const queryAt = originalUrl.indexOf('?');
  const path = queryAt === -1 ? originalUrl : originalUrl.slice(0, queryAt);
  return `${publicBaseUrl}${path.replace(/\/+$/, '')}`;
}

/**
 * Authenticates every request except CORS preflights with the client's JWT and stores the
 * verified caller in `res.locals.caller`. Failures go to `next(err)` as `CdsError('UNAUTHORIZED')`.
 * Without an authenticator (development mode, no trust file) every request is accepted unverified.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export function createAuthMiddleware(authenticator: Authenticator | undefined, config: Pick<Config, 'publicBaseUrl'>): RequestHandler {
  if (authenticator === undefined) return (_req, _res, next) => next();
  return (req, res, next) => {
    if (req.method === 'OPTIONS' || res.locals['caller'] !== undefined) {
      next();
      return;
    }
    const audience = audienceFor(config.publicBaseUrl, req.originalUrl);
    authenticator.authenticate(req.headers.authorization, audience).then(
      (caller) => {
        res.locals['caller'] = caller;
        next();
      },
      (error: unknown) => {
        next(error);
      },
    );
  };
}

/** The verified caller of this request, or undefined in development mode. */
export function callerOf(res: Response): Caller | undefined {
  const caller: unknown = res.locals['caller'];
  return isCaller(caller) ? caller : undefined;
}

function isCaller(value: unknown): value is Caller {
  if (typeof value !== 'object' || value === null || !('iss' in value) || typeof value.iss !== 'string') return false;
  const tenantOk = !('tenant' in value) || typeof value.tenant === 'string';
  const jtiOk = !('jti' in value) || typeof value.jti === 'string';
  return tenantOk && jtiOk;
}
