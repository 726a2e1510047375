import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { CdsError } from '../errors.js';

const REALM = 'Basic realm="Spine Safety CDS analytics", charset="UTF-8"';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Lets people open the analytics pages in a browser, which cannot send a CDS client's JWT: HTTP
 * Basic with the configured password (any user name) counts as authenticated for `/analytics`
 * only. Without a password, or with a Bearer token, the normal caller authentication decides.
 */
export function createAnalyticsAccess(password: string | undefined): RequestHandler {
  const expected = password ? digest(password) : undefined;
  return (req, res, next) => {
    if (!expected || req.method === 'OPTIONS') {
      next();
      return;
    }
    const header = req.headers.authorization;
    if (header && /^bearer\s/i.test(header)) {
      next();
      return;
    }
    const match = header ? /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim()) : null;
    const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const given = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : undefined;
    if (given !== undefined && timingSafeEqual(digest(given), expected)) {
      res.locals['caller'] = { iss: 'analytics-viewer' };
      next();
      return;
    }
    next(new CdsError('UNAUTHORIZED', [], { 'WWW-Authenticate': REALM }));
  };
}
