import type { RequestHandler } from 'express';
import type { Config } from '../config.js';

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;
const PREFLIGHT_METHODS = ['GET', 'POST', 'OPTIONS'];
const PREFLIGHT_HEADERS = ['Authorization', 'Content-Type'];

/**
 * CORS for browser-based CDS clients. Mount it first, so preflights are answered (204) before
 * authentication and error responses carry the CORS headers too. An origin not in
 * `config.corsOrigins` gets no `Access-Control-Allow-*` headers, so the browser blocks it. The
 * headers are worked out once here, not per request.
 * @see https://cds-hooks.hl7.org/2.0/#cross-origin-resource-sharing
 */
export function createCorsMiddleware(config: Pick<Config, 'corsOrigins'>): RequestHandler {
  const anyOrigin = config.corsOrigins.includes('*');
  // Origins arrive normalised: loadConfig validated them.
  const allowedOrigins = new Set(anyOrigin ? [] : config.corsOrigins);
  const methods = PREFLIGHT_METHODS.join(',');
  const headers = PREFLIGHT_HEADERS.join(',');
  const maxAge = String(PREFLIGHT_MAX_AGE_SECONDS);

  return (req, res, next) => {
    const origin = req.headers.origin;
    const allowed = anyOrigin || (origin !== undefined && allowedOrigins.has(origin));
    if (allowed) res.setHeader('Access-Control-Allow-Origin', anyOrigin || origin === undefined ? '*' : origin);
    // Unless any origin is allowed, the answer depends on Origin, so caches must key on it.
    if (!anyOrigin) {
      // Mounted first, so there is usually no Vary yet: set it without parsing one.
      if (res.getHeader('Vary') === undefined) res.setHeader('Vary', 'Origin');
      else res.vary('Origin');
    }
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    if (allowed) {
      res.setHeader('Access-Control-Allow-Methods', methods);
      res.setHeader('Access-Control-Allow-Headers', headers);
      res.setHeader('Access-Control-Max-Age', maxAge);
    }
    res.statusCode = 204;
    res.setHeader('Content-Length', '0');
    res.end();
  };
}
