import cors from 'cors';
import type { RequestHandler } from 'express';
import type { Config } from '../config.js';

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for browser-based CDS clients. Mount it first, so preflights are answered (204) before
 * authentication and error responses carry the CORS headers too. An origin not in
 * `config.corsOrigins` gets no `Access-Control-Allow-*` headers, so the browser blocks it.
 * @see https://cds-hooks.hl7.org/2.0/#cross-origin-resource-sharing
 */
export function createCorsMiddleware(config: Pick<Config, 'corsOrigins'>): RequestHandler {
  const anyOrigin = config.corsOrigins.includes('*');
  // Origins arrive normalised: loadConfig validated them.
  const allowedOrigins = new Set(anyOrigin ? [] : config.corsOrigins);
  const allow = cors({
    origin: anyOrigin ? '*' : [...allowedOrigins],
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
    preflightContinue: false,
  });

  return (req, res, next) => {
    const origin = req.headers.origin;
    if (anyOrigin || (origin !== undefined && allowedOrigins.has(origin))) {
      allow(req, res, next);
      return;
    }
    // The answer depends on Origin, so caches must key on it.
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      res.status(204).setHeader('Content-Length', '0');
      res.end();
      return;
    }
    next();
  };
}
