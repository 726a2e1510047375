import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { json, type RequestHandler } from 'express';
import type { z } from 'zod';
import { CdsError, type Problem } from '../errors.js';

/** Media types read as JSON (CDS Hooks clients send `application/json`, FHIR tools `application/fhir+json`). */
export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Problems listed in a 400 answer; the rest are summarised in one line. */
const MAX_PROBLEMS = 20;

/** The Content-Type values clients send nearly always, known to be JSON without parsing them. */
const COMMON_JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8', 'application/fhir+json', 'application/fhir+json; charset=utf-8']);

/** Whether the request announces a body, as type-is decides it. */
function announcesBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || !Number.isNaN(Number(headers['content-length'] ?? Number.NaN));
}

/**
 * 415 unless the body is declared as JSON; runs before the parser so nothing else is read.
 * The common values are matched by a set lookup; anything else is read by type-is (`req.is`).
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  const type = req.headers['content-type'];
  const json = type !== undefined && COMMON_JSON_TYPES.has(type) ? announcesBody(req.headers) : Boolean(req.is(JSON_TYPES));
  next(json ? undefined : new CdsError('UNSUPPORTED_MEDIA_TYPE'));
};

/** Request bodies as received, kept while their request lives (UTF-8 only). */
const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/** The body of this request as received, when it was UTF-8 JSON read by {@link jsonBody}. */
export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return rawBodies.get(req);
}

/** The JSON body parser every POST route uses; its errors reach the error handler (400, 413, 415). */
export function jsonBody(limitBytes: number): RequestHandler {
  return json({
    limit: limitBytes,
    type: JSON_TYPES,
    verify: (req, _res, buf, encoding) => {
      if (encoding === 'utf-8') rawBodies.set(req, buf);
    },
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}

/** Client-facing problems from zod issues: where and what, never the value sent. */
export function problemsFrom(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const problems: Problem[] = issues.slice(0, MAX_PROBLEMS).map((issue) => {
    const path = formatPath(issue.path);
    return path === '' ? { message: issue.message } : { path, message: `${path}: ${issue.message}` };
  });
  if (issues.length > MAX_PROBLEMS) problems.push({ message: `${issues.length - MAX_PROBLEMS} more problems not listed` });
  return problems;
}
